import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import {
  type ConversionParams,
  checkVideoLimits,
  isBgRemoverError,
  ParamError,
  parseConversionParams,
  planFrames,
  probeVideo,
  type VideoParams,
  videoLimitsOf,
} from '@bgremover/core/contract';
import {
  displayFileName,
  enqueueConversion,
  type InputReference,
  LocalStorage,
  storageFaultOf,
} from '@bgremover/jobs';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { authenticate } from '../api-keys.js';
import { type ApiContext, errorBody } from '../context.js';
import { replyQueueUnavailable } from '../queue-unavailable.js';
import { takeRateLimitToken } from '../rate-limit.js';
import {
  boundaryOf,
  guardedParts,
  replyAndClose,
  UploadAbortedError,
  UploadGuard,
} from '../upload-guard.js';
import { formatBytes, roleOfField, storeUpload, type Upload, uploadKey } from '../uploads.js';

/** Longest form field value; a longer one is refused (400), never cut. */
const MAX_FIELD_BYTES = 64 * 1024;

type StoredUpload = Extract<Upload, { ok: true }>;

/**
 * `POST /v1/convert/`: authenticates the key, applies its rate and in-flight limits, streams
 * every uploaded file into storage (sniffed from its bytes), validates the parameters, records
 * the request and enqueues one job per accepted file. Answers `{"uuid": ...}` at once, or
 * `{"error": ...}` with the matching 4xx. Refused files of a request that has accepted ones are
 * reported per file by `/v1/results/`.
 */
export function registerConvertRoute(app: FastifyInstance, context: ApiContext): void {
  app.post('/v1/convert/', async (request, reply) => {
    const keyId = authenticate(request.headers.authorization, context.config.apiKeys);
    if (!keyId) {
      return reply
        .code(401)
        .send(
          errorBody(
            request.headers.authorization
              ? 'Invalid API key'
              : 'Missing API key: send it in the Authorization header',
          ),
        );
    }
    // Refused before the body is read: nothing is staged for a request the queue cannot take.
    if (context.redis.status !== 'ready') return replyQueueUnavailable(reply);
    const perMinute = context.config.rateLimitOverrides[keyId] ?? context.config.rateLimitPerMinute;
    // Both go out together on the one connection: one round trip to Redis, not two.
    const [limit, inflight] = await Promise.all([
      takeRateLimitToken(context.redis, keyId, perMinute),
      context.requests.inflight(keyId),
    ]);
    if (!limit.allowed) {
      return reply
        .code(429)
        .header('retry-after', String(limit.retryAfterSeconds))
        .send(
          errorBody(
            `Rate limit of ${perMinute} requests per minute reached; retry in ${limit.retryAfterSeconds} s`,
          ),
        );
    }
    if (inflight >= context.config.maxFilesInFlightPerKey) {
      return reply
        .code(429)
        .header('retry-after', '10')
        .send(
          errorBody(
            `This key already has ${inflight} files in progress (limit ${context.config.maxFilesInFlightPerKey}); retry when some finish`,
          ),
        );
    }
    if (!request.isMultipart()) {
      return reply
        .code(400)
        .send(errorBody('Send the files and parameters as multipart/form-data'));
    }
    return handleUpload(request, reply, context, keyId, inflight);
  });
}

async function handleUpload(
  request: FastifyRequest,
  reply: FastifyReply,
  context: ApiContext,
  keyId: string,
  inflightBefore: number,
) {
  const requestId = randomUUID();
  const fields: Record<string, string> = {};
  const inputs: Upload[] = [];
  let background: Upload | undefined;
  const staged = () => [...inputs, ...(background ? [background] : [])];
  const { maxFilesPerRequest } = context.config;
  let index = 0;
  const guard = new UploadGuard(request.raw, {
    idleMs: context.config.uploadIdleTimeoutMs,
    totalMs: context.config.uploadTimeoutMs,
    boundary: boundaryOf(request.headers['content-type']),
  });
  context.uploads.add(guard);
  try {
    const parts = request
      .parts({
        limits: {
          fileSize: context.config.maxUploadBytes,
          // Inputs are counted below; the one more is the background's slot.
          files: maxFilesPerRequest + 1,
          fields: 100,
          fieldSize: MAX_FIELD_BYTES,
        },
      })
      [Symbol.asyncIterator]();
    for await (const part of guardedParts(parts, guard)) {
      if (part.type === 'field') {
        const problem = fieldProblem(part.fieldname, part.valueTruncated, fields);
        if (problem) throw new UploadAbortedError(400, problem);
        fields[part.fieldname] = String(part.value);
        continue;
      }
      const role = roleOfField(part.fieldname);
      if (role === 'input' && inputs.length >= maxFilesPerRequest) {
        throw new UploadAbortedError(
          400,
          `Too many files: at most ${maxFilesPerRequest} per request (plus one background)`,
        );
      }
      if (role === 'background' && background) {
        throw new UploadAbortedError(
          400,
          `Only one background per request: ${part.fieldname} repeats one already sent`,
        );
      }
      // The person's own name for messages and results; storage keys use a safe form of it.
      const filename = displayFileName(part.filename || 'upload');
      guard.track(part.file);
      const upload = await storeUpload(part.file, {
        role,
        filename,
        key: uploadKey(requestId, index++, filename),
        storage: context.storage,
        maxBytes: context.config.maxUploadBytes,
      });
      guard.track(undefined);
      if (role === 'background') background = upload;
      else inputs.push(upload);
      // Stop reading as soon as the files so far would take the key over its in-flight limit
      // (counted again, exactly, once the whole request has been read).
      const stored = inputs.filter((input) => input.ok).length;
      const inflightLimit = context.config.maxFilesInFlightPerKey;
      if (role === 'input' && inflightBefore + stored > inflightLimit) {
        throw new UploadAbortedError(429, inflightMessage(stored, inflightBefore, inflightLimit));
      }
    }
  } catch (error) {
    guard.stop();
    await discard(context, staged());
    const cut = guard.reason ?? (error instanceof UploadAbortedError ? error : undefined);
    if (cut) {
      if (cut.status === 408) request.log.warn({ requestId, keyId }, cut.message);
      if (cut.status === 429) reply.header('retry-after', '10');
      return replyAndClose(request, reply, cut.status, cut.message);
    }
    const code = (error as { code?: string }).code;
    if (code === 'FST_FILES_LIMIT') {
      return replyAndClose(
        request,
        reply,
        400,
        `Too many files: at most ${maxFilesPerRequest} per request (plus one background)`,
      );
    }
    const storageFault = storageFaultOf(error);
    if (storageFault) {
      // Our storage, not the client's upload: a 5xx that names the fault, never a path.
      request.log.error({ err: error, requestId }, 'storing an upload failed');
      const full = storageFault.code === 'ENOSPC' || storageFault.code === 'EDQUOT';
      if (storageFault.transient) reply.header('retry-after', '60');
      return replyAndClose(
        request,
        reply,
        full ? 507 : 503,
        `Cannot store uploads now: ${storageFault.summary} (${storageFault.code}); try again later`,
      );
    }
    request.log.warn({ err: error }, 'upload failed');
    return reply
      .code(400)
      .send(errorBody(`The upload could not be read: ${(error as Error).message}`));
  } finally {
    guard.stop();
    context.uploads.delete(guard);
  }

  try {
    return await acceptUpload(request, reply, context, keyId, requestId, {
      fields,
      inputs,
      background,
    });
  } catch (error) {
    // Redis gone (or anything else) after the files were staged: nothing may be left behind.
    await discard(context, staged());
    throw error;
  }
}

/** The 429 for a request whose files would take its key over MAX_FILES_IN_FLIGHT_PER_KEY. */
function inflightMessage(files: number, inflight: number, limit: number): string {
  return `This request's ${files} files would take this key to ${inflight + files} files in progress (limit ${limit}); send fewer or retry when some finish`;
}

/** Why a form field is refused: too long (cut by the parser) or sent twice; else undefined. */
function fieldProblem(
  name: string,
  truncated: boolean,
  fields: Record<string, string>,
): string | undefined {
  if (truncated) {
    return `Parameter ${name} is longer than the limit of ${formatBytes(MAX_FIELD_BYTES)}`;
  }
  if (Object.hasOwn(fields, name)) {
    return `Parameter ${name} was sent more than once; send each parameter once`;
  }
  return undefined;
}

/** What the multipart body held, once it has been read in full. */
interface ReadForm {
  fields: Record<string, string>;
  inputs: Upload[];
  background: Upload | undefined;
}

/**
 * Checks the parameters and files of a fully read request, records it and enqueues one job per
 * accepted file; refuses (and removes the staged files) otherwise.
 */
async function acceptUpload(
  request: FastifyRequest,
  reply: FastifyReply,
  context: ApiContext,
  keyId: string,
  requestId: string,
  { fields, inputs, background }: ReadForm,
) {
  const refuse = async (status: number, message: string, headers: Record<string, string> = {}) => {
    await discard(context, [...inputs, ...(background ? [background] : [])]);
    return reply.code(status).headers(headers).send(errorBody(message));
  };
  if (inputs.length === 0)
    return refuse(400, 'No files: send them in the "files" field (or file[0], file[1], ...)');

  let conversion: ConversionParams;
  try {
    conversion = parseConversionParams(fields);
  } catch (error) {
    if (error instanceof ParamError) return refuse(400, error.message);
    throw error;
  }
  const backgroundProblem = checkBackground(conversion, background);
  if (backgroundProblem) return refuse(400, backgroundProblem);

  const checked = inputs.map((upload) => checkMediaKind(upload, conversion.kind));
  const durations =
    conversion.kind === 'video'
      ? await probeVideos(checked, context, conversion.params)
      : new Map<number, number>();
  const accepted = checked.filter((upload): upload is StoredUpload => upload.ok);
  if (accepted.length === 0) {
    const status = checked.every((upload) => !upload.ok && upload.status === 413) ? 413 : 415;
    return refuse(status, checked.map((upload) => (upload.ok ? '' : upload.error)).join('; '));
  }
  // The key's files in progress, counted again now that this request's own are known.
  const limit = context.config.maxFilesInFlightPerKey;
  const inflight = await context.requests.inflight(keyId);
  if (inflight + accepted.length > limit) {
    return refuse(429, inflightMessage(accepted.length, inflight, limit), { 'retry-after': '10' });
  }
  await discard(
    context,
    checked.filter((upload) => !upload.ok),
  );

  const jobIdFor = (position: number) => `${requestId}-${position}`;
  const backgroundReference: InputReference | undefined = background?.ok
    ? { kind: 'storage', key: background.key, filename: background.filename }
    : undefined;
  // Admission: the record (and the key's in-flight entries), then the jobs. If any step fails
  // (Redis going away mid-request), what was written is undone, so no record waits forever and
  // no in-flight entry holds the key's limit; the staged uploads are removed by the caller.
  const enqueued: string[] = [];
  try {
    await context.requests.create(
      requestId,
      keyId,
      checked.map((upload, position) =>
        upload.ok
          ? { filename: upload.filename, jobId: jobIdFor(position) }
          : { filename: upload.filename, error: upload.error },
      ),
    );
    for (const [position, upload] of checked.entries()) {
      if (!upload.ok) continue;
      await enqueueConversion(
        context.queue,
        {
          version: 1,
          mediaKind: conversion.kind,
          params: conversion.params,
          input: { kind: 'storage', key: upload.key, filename: upload.filename },
          ...(backgroundReference ? { background: backgroundReference } : {}),
          target: { kind: 'api', requestId, fileIndex: position },
          requestedAt: Date.now(),
        },
        jobIdFor(position),
        { durationSeconds: durations.get(position) },
      );
      enqueued.push(jobIdFor(position));
    }
  } catch (error) {
    await undoAdmission(context, requestId, keyId, checked.length, enqueued).catch((undoError) =>
      request.log.warn({ err: undoError, requestId }, 'could not undo a failed admission'),
    );
    throw error;
  }
  request.log.info(
    { requestId, keyId, files: checked.length, accepted: accepted.length },
    'conversion accepted',
  );
  return reply.send({ uuid: requestId });
}

/**
 * Undoes a half-done admission: removes the jobs already enqueued (a worker that took one
 * already finds no record and its result expires) and the request's record and in-flight
 * entries. Best effort: with Redis down it fails too, and the in-flight entries lapse on their
 * own (their score is their expiry; entries without a record are dropped when counted).
 */
async function undoAdmission(
  context: ApiContext,
  requestId: string,
  keyId: string,
  fileCount: number,
  jobIds: readonly string[],
): Promise<void> {
  for (const jobId of jobIds) await context.queue.remove(jobId).catch(() => 0);
  await context.requests.abandon(requestId, keyId, fileCount);
}

/** An image request given a video (or the reverse) is refused for that file, saying what to send. */
function checkMediaKind(upload: Upload, kind: 'image' | 'video'): Upload {
  if (!upload.ok) return upload;
  if (kind === 'image' && upload.media === 'video') {
    return {
      ok: false,
      role: upload.role,
      filename: upload.filename,
      status: 415,
      error: `${upload.filename} is a video: send it with convert_to=video-backgroundremover`,
    };
  }
  if (kind === 'video' && upload.media === 'image' && upload.mime !== 'image/gif') {
    return {
      ok: false,
      role: upload.role,
      filename: upload.filename,
      status: 415,
      error: `${upload.filename} is an image: send it with convert_to=image-backgroundremover`,
    };
  }
  return upload;
}

/** Says what is wrong when the chosen output needs a background that was not sent (or is bad). */
function checkBackground(
  conversion: ConversionParams,
  background: Upload | undefined,
): string | undefined {
  if (background && !background.ok) return `bg_image: ${background.error}`;
  const needs =
    conversion.kind === 'image'
      ? conversion.params.bg_type === 'image' && !conversion.params.only_mask
        ? 'image'
        : undefined
      : conversion.params.video_format === 'video_over_video'
        ? 'video'
        : ['video_over_image', 'gif_with_bg'].includes(conversion.params.video_format)
          ? 'image'
          : undefined;
  if (!needs) return undefined;
  const field = needs === 'video' ? 'bg_video' : 'bg_image';
  const why =
    conversion.kind === 'image'
      ? 'bg_type=image'
      : `video_format=${conversion.params.video_format}`;
  if (!background) return `${field}: ${why} needs a background ${needs}; send it as ${field}`;
  if (
    background.ok &&
    background.media !== needs &&
    !(needs === 'video' && background.mime === 'image/gif')
  ) {
    return `${field}: ${why} needs a background ${needs}, but the file sent is ${background.mime}`;
  }
  return undefined;
}

/**
 * With local storage, reads each accepted video's duration (queue priority: shorter videos go
 * first) and refuses, per file, videos ffprobe cannot use (no video stream, zero length, corrupt)
 * before any job exists. With S3 the worker does these checks.
 */
async function probeVideos(
  checked: Upload[],
  context: ApiContext,
  params: VideoParams,
): Promise<Map<number, number>> {
  const limits = videoLimitsOf(context.config.core);
  const durations = new Map<number, number>();
  if (!(context.storage instanceof LocalStorage)) return durations;
  for (const [position, upload] of checked.entries()) {
    if (!upload.ok) continue;
    try {
      const info = await probeVideo(join(context.storage.root, upload.key), limits.maxVideoPixels);
      // The same length limits as the worker, on the frames this request would make.
      checkVideoLimits(info, planFrames(info, params), limits);
      if (info.duration !== undefined) durations.set(position, info.duration);
    } catch (error) {
      if (!isBgRemoverError(error)) throw error;
      checked[position] = {
        ok: false,
        role: upload.role,
        filename: upload.filename,
        status: error.code === 'input_too_long' || error.code === 'input_too_large' ? 413 : 415,
        error: `${upload.filename}: ${error.message}`,
      };
    }
  }
  return durations;
}

async function discard(context: ApiContext, uploads: readonly Upload[]): Promise<void> {
  for (const upload of uploads)
    if (upload.ok) await context.storage.delete(upload.key).catch(() => undefined);
}
