import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import {
  type ConversionParams,
  isBgRemoverError,
  ParamError,
  parseConversionParams,
  probeVideo,
} from '@bgremover/core';
import {
  displayFileName,
  enqueueConversion,
  type InputReference,
  LocalStorage,
} from '@bgremover/jobs';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { authenticate } from '../api-keys.js';
import { type ApiContext, errorBody } from '../context.js';
import { takeRateLimitToken } from '../rate-limit.js';
import { roleOfField, storeUpload, type Upload, uploadKey } from '../uploads.js';

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
    return handleUpload(request, reply, context, keyId);
  });
}

async function handleUpload(
  request: FastifyRequest,
  reply: FastifyReply,
  context: ApiContext,
  keyId: string,
) {
  const requestId = randomUUID();
  const fields: Record<string, string> = {};
  const inputs: Upload[] = [];
  let background: Upload | undefined;
  let index = 0;
  try {
    for await (const part of request.parts({
      limits: {
        fileSize: context.config.maxUploadBytes,
        files: context.config.maxFilesPerRequest + 1,
        fields: 100,
        fieldSize: 64 * 1024,
      },
    })) {
      if (part.type === 'field') {
        fields[part.fieldname] = String(part.value);
        continue;
      }
      const role = roleOfField(part.fieldname);
      // The person's own name for messages and results; storage keys use a safe form of it.
      const filename = displayFileName(part.filename || 'upload');
      const upload = await storeUpload(part.file, {
        role,
        filename,
        key: uploadKey(requestId, index++, filename),
        storage: context.storage,
        maxBytes: context.config.maxUploadBytes,
      });
      if (role === 'background') background = upload;
      else inputs.push(upload);
    }
  } catch (error) {
    await discard(context, [...inputs, ...(background ? [background] : [])]);
    const code = (error as { code?: string }).code;
    if (code === 'FST_FILES_LIMIT') {
      return reply
        .code(400)
        .send(
          errorBody(`Too many files: at most ${context.config.maxFilesPerRequest} per request`),
        );
    }
    request.log.warn({ err: error }, 'upload failed');
    return reply
      .code(400)
      .send(errorBody(`The upload could not be read: ${(error as Error).message}`));
  }

  const refuse = async (status: number, message: string) => {
    await discard(context, [...inputs, ...(background ? [background] : [])]);
    return reply.code(status).send(errorBody(message));
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
    conversion.kind === 'video' ? await probeVideos(checked, context) : new Map<number, number>();
  const accepted = checked.filter((upload): upload is StoredUpload => upload.ok);
  if (accepted.length === 0) {
    const status = checked.every((upload) => !upload.ok && upload.status === 413) ? 413 : 415;
    return refuse(status, checked.map((upload) => (upload.ok ? '' : upload.error)).join('; '));
  }
  await discard(
    context,
    checked.filter((upload) => !upload.ok),
  );

  const jobIdFor = (position: number) => `${requestId}-${position}`;
  await context.requests.create(
    requestId,
    keyId,
    checked.map((upload, position) =>
      upload.ok
        ? { filename: upload.filename, jobId: jobIdFor(position) }
        : { filename: upload.filename, error: upload.error },
    ),
  );
  const backgroundReference: InputReference | undefined = background?.ok
    ? { kind: 'storage', key: background.key, filename: background.filename }
    : undefined;
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
  }
  request.log.info(
    { requestId, keyId, files: checked.length, accepted: accepted.length },
    'conversion accepted',
  );
  return reply.send({ uuid: requestId });
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
async function probeVideos(checked: Upload[], context: ApiContext): Promise<Map<number, number>> {
  const durations = new Map<number, number>();
  if (!(context.storage instanceof LocalStorage)) return durations;
  for (const [position, upload] of checked.entries()) {
    if (!upload.ok) continue;
    try {
      const info = await probeVideo(
        join(context.storage.root, upload.key),
        context.config.core.maxInputPixels,
      );
      if (info.duration !== undefined) durations.set(position, info.duration);
    } catch (error) {
      if (!isBgRemoverError(error)) throw error;
      checked[position] = {
        ok: false,
        role: upload.role,
        filename: upload.filename,
        status: 415,
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
