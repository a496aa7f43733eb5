import {
  type ApiRequestRecord,
  jobsAheadOf,
  parseJobProgress,
  resultDownloadPath,
} from '@bgremover/jobs';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { FileProgress, ResultsBody } from '../../web/api-types.js';
import { type ApiContext, errorBody } from '../context.js';
import { replyQueueUnavailable } from '../queue-unavailable.js';
import { guardedParts, replyAndClose, UploadAbortedError, UploadGuard } from '../upload-guard.js';

/** The request ids /v1/convert/ issues: randomUUID()'s lowercase 8-4-4-4-12 form. */
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The shapes of the answer: one declaration, shared with the web page's script. */
export type { FileProgress, ResultsBody };

/**
 * `POST /v1/results/` (uuid as a form field, multipart field, JSON or query): the finished files
 * with their download URLs, the failed ones with their reasons, whether everything has ended,
 * and how many jobs are ahead of this request in the queue. The uuid is the capability; an
 * unknown or expired one is a 404.
 */
export function registerResultsRoute(app: FastifyInstance, context: ApiContext): void {
  const handler = async (request: FastifyRequest) => {
    let uuid: string | undefined;
    try {
      uuid = await readUuid(request, context);
    } catch (error) {
      if (error instanceof UploadAbortedError) {
        return { status: error.status, body: errorBody(error.message), close: true };
      }
      throw error;
    }
    if (!uuid)
      return {
        status: 400,
        body: errorBody('Send the uuid from /v1/convert/ as the "uuid" field'),
      };
    // Only the form /v1/convert/ issues (randomUUID) is ever looked up: any other string is
    // unknown without asking Redis, so none can probe the keys Redis holds.
    if (!UUID_PATTERN.test(uuid))
      return { status: 404, body: errorBody(`Unknown or expired uuid ${uuid.slice(0, 100)}`) };
    const record = await context.requests.get(uuid);
    if (!record) return { status: 404, body: errorBody(`Unknown or expired uuid ${uuid}`) };
    return { status: 200, body: await describe(record, context) };
  };
  app.post('/v1/results/', async (request, reply) => {
    if (context.redis.status !== 'ready') return replyQueueUnavailable(reply);
    const { status, body, close } = await handler(request);
    if (close) return replyAndClose(request, reply, status, body.error);
    return reply.code(status).send(body);
  });
  app.get('/v1/results/', async (request, reply) => {
    if (context.redis.status !== 'ready') return replyQueueUnavailable(reply);
    const { status, body, close } = await handler(request);
    if (close) return replyAndClose(request, reply, status, body.error);
    return reply.code(status).send(body);
  });
}

async function describe(record: ApiRequestRecord, context: ApiContext): Promise<ResultsBody> {
  const files: ResultsBody['files'] = [];
  const failed: ResultsBody['failed'] = [];
  const warnings: string[] = [];
  for (const file of record.files) {
    if (file.state === 'done') {
      files.push({
        url: resultDownloadPath(file.resultKey),
        filename: file.resultFilename,
      });
      for (const warning of file.warnings ?? [])
        warnings.push(`${file.resultFilename}: ${warning}`);
    } else if (file.state === 'failed') {
      failed.push({ filename: file.filename, error: file.error });
    }
  }
  const [queueCount, progress] = record.finished
    ? [0, []]
    : await Promise.all([jobsAhead(record, context), progressOf(record, context)]);
  return {
    files,
    failed,
    finished: record.finished,
    queue_count: queueCount,
    warnings,
    ...(progress.length > 0 ? { progress } : {}),
    errors: failed.map((file) =>
      file.error.startsWith(file.filename) ? file.error : `${file.filename}: ${file.error}`,
    ),
  };
}

/**
 * The progress the workers reported for the request's started files: one HGET per started file,
 * sent together (none when nothing has started).
 */
async function progressOf(record: ApiRequestRecord, context: ApiContext): Promise<FileProgress[]> {
  const started = record.files.filter((file) => file.state === 'queued' && file.started);
  if (started.length === 0) return [];
  const pipeline = context.redis.pipeline();
  for (const file of started) pipeline.hget(context.queue.toKey(file.jobId), 'progress');
  const answers = (await pipeline.exec()) ?? [];
  const progress: FileProgress[] = [];
  started.forEach((file, index) => {
    const [error, raw] = answers[index] ?? [];
    if (error || typeof raw !== 'string') return;
    const reported = parseProgress(raw);
    if (reported) progress.push({ filename: file.filename, ...reported });
  });
  return progress;
}

function parseProgress(raw: string): Omit<FileProgress, 'filename'> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return undefined;
  }
  const progress = parseJobProgress(value);
  if (!progress) return undefined;
  return {
    stage: progress.stage,
    percent: progress.percent,
    ...(progress.framesDone !== undefined ? { frames_done: progress.framesDone } : {}),
    ...(progress.framesTotal !== undefined ? { frames_total: progress.framesTotal } : {}),
  };
}

/**
 * Jobs ahead of this request: none once a worker has started one of its files (or none is
 * queued any more); otherwise the running jobs plus the queued ones BullMQ's workers will take
 * before the first of its files, counted in Redis in one step.
 */
async function jobsAhead(record: ApiRequestRecord, context: ApiContext): Promise<number> {
  const pending = record.files.filter((file) => file.state === 'queued');
  if (pending.some((file) => file.started)) return 0;
  const ahead = await jobsAheadOf(
    context.redis,
    context.queue,
    pending.map((file) => file.jobId),
  );
  return ahead ?? 0;
}

/**
 * The uuid from the query, a multipart form (read under the upload idle limit: a form that
 * stalls is cut with a 408, as uploads are) or a parsed body.
 */
async function readUuid(request: FastifyRequest, context: ApiContext): Promise<string | undefined> {
  const fromQuery = (request.query as Record<string, unknown> | undefined)?.uuid;
  if (typeof fromQuery === 'string' && fromQuery) return fromQuery.trim();
  if (request.isMultipart()) {
    let uuid: string | undefined;
    const limitMs = context.config.uploadIdleTimeoutMs;
    const guard = new UploadGuard(request.raw, {
      idleMs: limitMs,
      // A uuid form is a few hundred bytes: twice the idle limit is plenty.
      totalMs: 2 * limitMs,
      boundary: undefined,
    });
    context.uploads.add(guard);
    try {
      const parts = request
        .parts({ limits: { files: 0, fields: 20, fieldSize: 1024 } })
        [Symbol.asyncIterator]();
      for await (const part of guardedParts(parts, guard)) {
        if (part.type === 'field' && part.fieldname === 'uuid') uuid = String(part.value).trim();
      }
    } catch (error) {
      throw guard.reason ?? error;
    } finally {
      guard.stop();
      context.uploads.delete(guard);
    }
    return uuid;
  }
  const body = request.body as Record<string, unknown> | undefined;
  return typeof body?.uuid === 'string' && body.uuid ? body.uuid.trim() : undefined;
}
