import { videoLimitsOf } from '@bgremover/core/contract';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { admitRequest, discardUploads } from '../admission.js';
import { type ApiContext, errorBody } from '../context.js';
import { type ConvertForm, readConvertForm, stagedUploads } from '../convert-form.js';
import { inflightProblem } from '../form-checks.js';
import { checkRequest } from '../media-checks.js';
import { type AdmittedKey, admittedKeyOf } from '../plugins/key-admission.js';

/**
 * `POST /v1/convert/`, behind the key-admission hooks (key, queue, rate and in-flight limits:
 * plugins/key-admission.ts): streams every uploaded file into storage (convert-form.ts), checks
 * the parameters and files (media-checks.ts), records the request and enqueues one job per
 * accepted file (admission.ts). Answers `{"uuid": ...}` at once, or `{"error": ...}` with the
 * matching 4xx. Refused files of a request that has accepted ones are reported per file by
 * `/v1/results/`.
 */
export function registerConvertRoute(app: FastifyInstance, context: ApiContext): void {
  app.post('/v1/convert/', async (request, reply) => {
    if (!request.isMultipart()) {
      return reply
        .code(400)
        .send(errorBody('Send the files and parameters as multipart/form-data'));
    }
    const key = admittedKeyOf(request);
    const read = await readConvertForm(request, reply, context, key);
    if (!read.ok) return read.reply;
    try {
      return await acceptForm(request, reply, context, key, read.form);
    } catch (error) {
      // Redis gone (or anything else) after the files were staged: nothing may be left behind.
      await discardUploads(context.storage, stagedUploads(read.form));
      throw error;
    }
  });
}

/**
 * Checks a fully read form, recounts the key's files in progress with this request's own, and
 * admits it; refuses (removing the staged files) otherwise.
 */
async function acceptForm(
  request: FastifyRequest,
  reply: FastifyReply,
  context: ApiContext,
  key: AdmittedKey,
  form: ConvertForm,
): Promise<FastifyReply> {
  const refuse = async (status: number, message: string, headers: Record<string, string> = {}) => {
    await discardUploads(context.storage, stagedUploads(form));
    return reply.code(status).headers(headers).send(errorBody(message));
  };
  const verdict = checkRequest({
    fields: form.fields,
    inputs: form.inputs.map((upload, position) => ({
      ...upload,
      probe: form.probes.get(position),
    })),
    background: form.background,
    limits: videoLimitsOf(context.config.core),
  });
  if (!verdict.ok) return refuse(verdict.status, verdict.error);
  const accepted = verdict.inputs.filter((input) => input.ok).length;
  const limit = context.config.maxFilesInFlightPerKey;
  const inflight = inflightProblem(accepted, await context.requests.inflight(key.id), limit);
  if (inflight) return refuse(429, inflight, { 'retry-after': '10' });
  await discardUploads(
    context.storage,
    form.inputs.filter((_upload, position) => !verdict.inputs[position]?.ok),
  );
  await admitRequest(
    context,
    {
      requestId: form.requestId,
      keyId: key.id,
      conversion: verdict.conversion,
      uploads: form.inputs,
      verdicts: verdict.inputs,
      background: form.background,
    },
    request.log,
  );
  request.log.info(
    { requestId: form.requestId, keyId: key.id, files: form.inputs.length, accepted },
    'conversion accepted',
  );
  return reply.send({ uuid: form.requestId });
}
