import { randomUUID } from 'node:crypto';
import { videoLimitsOf } from '@bgremover/core/contract';
import { displayFileName, storageFaultOf } from '@bgremover/jobs';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { discardUploads } from './admission.js';
import { type ApiContext, errorBody } from './context.js';
import {
  fieldProblem,
  filePartProblem,
  inflightProblem,
  MAX_FIELD_BYTES,
  tooManyFilesMessage,
} from './form-checks.js';
import { needsProbeCopy, type ProbeOutcome, roleOfField } from './media-checks.js';
import type { AdmittedKey } from './plugins/key-admission.js';
import {
  boundaryOf,
  guardedParts,
  replyAndClose,
  UploadAbortedError,
  UploadGuard,
} from './upload-guard.js';
import { storeUpload, type Upload, uploadKey } from './uploads.js';
import { probeCopyPath, probeLocalCopy } from './video-probe.js';

/** What a `/v1/convert/` multipart body held, once read in full and stored. */
export interface ConvertForm {
  requestId: string;
  fields: Record<string, string>;
  inputs: Upload[];
  /** The probe of each input that may be converted as a video, by its position in `inputs`. */
  probes: Map<number, ProbeOutcome>;
  background: Upload | undefined;
}

/** Every stored file of a form (inputs and background). */
export function stagedUploads(form: Pick<ConvertForm, 'inputs' | 'background'>): Upload[] {
  return [...form.inputs, ...(form.background ? [form.background] : [])];
}

/**
 * Reads a `/v1/convert/` multipart body under the upload guard (idle and total limits, part
 * headers, shutdown): fields, and each file streamed to storage as it arrives, with videos
 * probed from a local copy made on the way (whatever the storage). Stops at the first limit
 * broken (a field, the files per request, one background, the key's files in progress) or
 * fault, removes what was stored and answers; otherwise returns the form.
 */
export async function readConvertForm(
  request: FastifyRequest,
  reply: FastifyReply,
  context: ApiContext,
  key: AdmittedKey,
): Promise<{ ok: true; form: ConvertForm } | { ok: false; reply: FastifyReply }> {
  const { config } = context;
  const { maxVideoPixels } = videoLimitsOf(config.core);
  const form: ConvertForm = {
    requestId: randomUUID(),
    fields: {},
    inputs: [],
    probes: new Map(),
    background: undefined,
  };
  let index = 0;
  const guard = new UploadGuard(request.raw, {
    idleMs: config.uploadIdleTimeoutMs,
    totalMs: config.uploadTimeoutMs,
    boundary: boundaryOf(request.headers['content-type']),
  });
  context.uploads.add(guard);
  try {
    const parts = request
      .parts({
        limits: {
          fileSize: config.maxUploadBytes,
          // Inputs are counted below; the one more is the background's slot.
          files: config.maxFilesPerRequest + 1,
          fields: 100,
          fieldSize: MAX_FIELD_BYTES,
        },
      })
      [Symbol.asyncIterator]();
    for await (const part of guardedParts(parts, guard)) {
      if (part.type === 'field') {
        const problem = fieldProblem(part.fieldname, part.valueTruncated, form.fields);
        if (problem) throw new UploadAbortedError(400, problem);
        form.fields[part.fieldname] = String(part.value);
        continue;
      }
      const role = roleOfField(part.fieldname);
      const partProblem = filePartProblem(role, part.fieldname, {
        inputs: form.inputs.length,
        hasBackground: form.background !== undefined,
        maxFiles: config.maxFilesPerRequest,
      });
      if (partProblem) throw new UploadAbortedError(400, partProblem);
      // The person's own name for messages and results; storage keys use a safe form of it.
      const filename = displayFileName(part.filename || 'upload');
      guard.track(part.file);
      const upload = await storeUpload(part.file, {
        role,
        filename,
        key: uploadKey(form.requestId, index++, filename),
        storage: context.storage,
        maxBytes: config.maxUploadBytes,
        localCopy: (sniffed) =>
          needsProbeCopy(role, sniffed, form.fields.convert_to) ? probeCopyPath() : undefined,
      });
      guard.track(undefined);
      if (role === 'background') {
        form.background = upload;
        continue;
      }
      form.inputs.push(upload);
      // Probed now, so at most one local copy exists at a time.
      if (upload.ok && upload.localCopy) {
        form.probes.set(
          form.inputs.length - 1,
          await probeLocalCopy(upload.localCopy, maxVideoPixels),
        );
      }
      // Stop reading as soon as the files so far would take the key over its in-flight limit
      // (counted again, exactly, once the whole request has been read).
      const stored = form.inputs.filter((input) => input.ok).length;
      const inflight = inflightProblem(stored, key.inflight, config.maxFilesInFlightPerKey);
      if (inflight) throw new UploadAbortedError(429, inflight);
    }
  } catch (error) {
    guard.stop();
    await discardUploads(context.storage, stagedUploads(form));
    return {
      ok: false,
      reply: refuseUpload(request, reply, guard, error, {
        requestId: form.requestId,
        keyId: key.id,
        maxFiles: config.maxFilesPerRequest,
      }),
    };
  } finally {
    guard.stop();
    context.uploads.delete(guard);
  }
  return { ok: true, form };
}

/** Answers an upload that was cut short, or failed, while it was being read. */
function refuseUpload(
  request: FastifyRequest,
  reply: FastifyReply,
  guard: UploadGuard,
  error: unknown,
  about: { requestId: string; keyId: string; maxFiles: number },
): FastifyReply {
  const { requestId, keyId } = about;
  const cut = guard.reason ?? (error instanceof UploadAbortedError ? error : undefined);
  if (cut) {
    if (cut.status === 408) request.log.warn({ requestId, keyId }, cut.message);
    if (cut.status === 429) reply.header('retry-after', '10');
    return replyAndClose(request, reply, cut.status, cut.message);
  }
  const code = (error as { code?: string }).code;
  if (code === 'FST_FILES_LIMIT') {
    return replyAndClose(request, reply, 400, tooManyFilesMessage(about.maxFiles));
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
}
