import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { type CoreConfig, isBgRemoverError, ModelDownloadError } from '@bgremover/core';
import {
  type ConversionJobData,
  type ConversionJobResult,
  conversionJobDataSchema,
  resultStorageKey,
  type Storage,
  safeFileName,
  UnsafeStorageKeyError,
} from '@bgremover/jobs';
import { type Job, UnrecoverableError } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { InputRefusedError, TransientError } from './errors.js';
import { type FetchInputOptions, fetchInput } from './fetch-input.js';
import { scratchPrefix } from './housekeeping.js';
import {
  adapterFor,
  type DeliverableResult,
  type JobProgress,
  type ReplyAdapters,
} from './reply/adapter.js';
import { type MediaOutput, type MediaRunContext, runImage, runVideo } from './run-media.js';

/** Runs one kind of media (image or video) for a job. */
export type MediaRunner = (
  data: ConversionJobData,
  context: MediaRunContext,
) => Promise<MediaOutput>;

export interface ProcessorDeps {
  core: CoreConfig;
  storage: Storage;
  redis: Redis;
  adapters: ReplyAdapters;
  logger: Logger;
  workerId: string;
  fetch: Omit<FetchInputOptions, 'storage' | 'dir'>;
  /** Overrides of the built-in image and video runners (e.g. for benchmarks). */
  runners?: Partial<Record<ConversionJobData['mediaKind'], MediaRunner>>;
  /** How long delivery markers are kept (as long as results). */
  deliveryMarkerTtlMs: number;
}

/**
 * The worker's processor for one conversion job: fetch the input, run core, store the result,
 * deliver it through the target's adapter, and return a summary (no bytes) that BullMQ keeps.
 * Bad input fails once with its message (UnrecoverableError, delivered as a failure); transient
 * faults are rethrown for BullMQ to retry, and delivered as a failure only on the last attempt.
 */
export async function processConversionJob(
  job: Job<ConversionJobData, ConversionJobResult>,
  deps: ProcessorDeps,
): Promise<ConversionJobResult> {
  const started = performance.now();
  const jobId = job.id ?? 'unknown';
  const logger = deps.logger.child({ jobId });
  const parsed = conversionJobDataSchema.safeParse(job.data);
  if (!parsed.success) throw new UnrecoverableError(`Malformed job data: ${parsed.error.message}`);
  const data = parsed.data;
  const adapter = adapterFor(deps.adapters, data.target);
  if (!adapter)
    throw new UnrecoverableError(`This worker cannot deliver to ${data.target.kind} targets`);
  const context = { jobId, logger };
  // Named after this process, so that housekeeping can tell a dead worker's folders.
  const scratchDir = await mkdtemp(scratchPrefix());
  const progress = (update: JobProgress) => {
    job.updateProgress(update).catch(() => undefined);
    adapter.reportProgress?.(data.target, update, context).catch(() => undefined);
  };
  try {
    progress({ stage: 'fetching', percent: 2 });
    const fetchOptions = { ...deps.fetch, storage: deps.storage, dir: scratchDir };
    const inputPath = await fetchInput(data.input, fetchOptions);
    const backgroundPath = data.background
      ? await fetchInput(data.background, fetchOptions)
      : undefined;

    progress({ stage: 'processing', percent: 5 });
    const runner =
      deps.runners?.[data.mediaKind] ?? (data.mediaKind === 'image' ? runImage : runVideo);
    const output = await runner(data, {
      config: deps.core,
      logger: { info: (m, f) => logger.info(f ?? {}, m), warn: (m, f) => logger.warn(f ?? {}, m) },
      inputPath,
      backgroundPath,
      scratchDir,
      onProgress: progress,
      signal: new AbortController().signal,
    });

    progress({ stage: 'storing', percent: 95 });
    const resultKey = resultStorageKey(jobId, output.filename);
    const bytes = await storeOutput(deps.storage, resultKey, output, logger);
    const deliverable: DeliverableResult = {
      resultKey,
      filename: output.filename,
      contentType: output.contentType,
      bytes,
      localPath: output.body.kind === 'file' ? output.body.path : await spill(output, scratchDir),
      model: output.model,
      warnings: output.warnings,
    };
    progress({ stage: 'delivering', percent: 98 });
    await deliverOnce(deps, `${job.queueName}:${jobId}`, () =>
      adapter.deliverResult(data.target, deliverable, context),
    );
    return {
      resultKey,
      filename: output.filename,
      contentType: output.contentType,
      bytes,
      model: output.model,
      warnings: output.warnings,
      worker: deps.workerId,
      elapsedMs: performance.now() - started,
    };
  } catch (error) {
    const failure = describeFailure(error);
    const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    if (!failure.retryable || lastAttempt) {
      if (failure.retryable) logger.error({ err: error }, 'job failed after its last attempt');
      else logger.info({ reason: failure.message }, 'job refused its input');
      await deliverOnce(deps, `${job.queueName}:${jobId}`, () =>
        adapter.deliverFailure(data.target, failure.message, context),
      );
    } else {
      logger.info({ err: error, attempt: job.attemptsMade + 1 }, 'attempt failed; will retry');
    }
    if (!failure.retryable) throw new UnrecoverableError(failure.message);
    throw error instanceof Error ? error : new Error(String(error));
  } finally {
    await rm(scratchDir, { recursive: true, force: true });
  }
}

/** Sorts an error into "tell the person, do not retry" and "retry, it may pass". */
export function describeFailure(error: unknown): { message: string; retryable: boolean } {
  // A model download that failed on the network (or a 5xx) may pass on the next attempt.
  if (error instanceof ModelDownloadError && error.transient) {
    return { message: error.message, retryable: true };
  }
  if (isBgRemoverError(error) || error instanceof InputRefusedError) {
    return { message: error.message, retryable: false };
  }
  if (error instanceof UnrecoverableError) return { message: error.message, retryable: false };
  if (error instanceof TransientError)
    return { message: `Temporary failure: ${error.message}`, retryable: true };
  return {
    message: 'Internal error while processing this file; it has been logged',
    retryable: true,
  };
}

async function storeOutput(
  storage: Storage,
  key: string,
  output: MediaOutput,
  logger: Logger,
): Promise<number> {
  const options = { downloadName: output.filename };
  try {
    if (output.body.kind === 'buffer') {
      await storage.put(key, output.body.data, output.contentType, options);
      return output.body.data.length;
    }
    await storage.putFile(key, output.body.path, output.contentType, options);
    return output.body.bytes;
  } catch (error) {
    // The full error (with keys and paths) goes to the operator's log only.
    logger.error({ err: error }, 'storing the result failed');
    const fault = classifyStorageFault(error);
    const message = `Storing the result failed (${fault.code})`;
    if (!fault.transient) throw new UnrecoverableError(`${message}; it has been logged`);
    throw new TransientError(message, { cause: error });
  }
}

/** System error codes of local storage that waiting cannot fix (permissions, a wrong path). */
const PERMANENT_FS_CODES = new Set([
  'EACCES',
  'EPERM',
  'EROFS',
  'ENOTDIR',
  'EISDIR',
  'ENAMETOOLONG',
]);

/**
 * Names a storage failure without its message (which holds keys and paths) and says whether a
 * retry may cure it: a full disk, a network error or an S3 5xx may pass; an unsafe key, a
 * permission error or an S3 4xx (no such bucket, access denied) will not.
 */
export function classifyStorageFault(error: unknown): { code: string; transient: boolean } {
  if (error instanceof UnsafeStorageKeyError) return { code: 'unsafe key', transient: false };
  const fault = error as {
    code?: unknown;
    name?: unknown;
    $metadata?: { httpStatusCode?: number };
  };
  const status = fault.$metadata?.httpStatusCode;
  if (typeof status === 'number') {
    const transient = status >= 500 || status === 408 || status === 429;
    return { code: `${typeof fault.name === 'string' ? fault.name : 'S3'} ${status}`, transient };
  }
  if (typeof fault.code === 'string' && /^[A-Z0-9_]+$/.test(fault.code)) {
    return { code: fault.code, transient: !PERMANENT_FS_CODES.has(fault.code) };
  }
  return { code: 'storage error', transient: true };
}

async function spill(output: MediaOutput, dir: string): Promise<string> {
  if (output.body.kind === 'file') return output.body.path;
  const path = join(dir, safeFileName(output.filename));
  await writeFile(path, output.body.data);
  return path;
}

/**
 * Delivers at most once per job: a job retried after its worker died between delivering and
 * completing does not post its result twice. The marker lives in Redis as long as results.
 */
async function deliverOnce(
  deps: ProcessorDeps,
  /** `<queue>:<job id>`: job ids repeat across queues (and chat-derived ids are reused). */
  jobKey: string,
  deliver: () => Promise<void>,
): Promise<void> {
  const marker = `bgremover:delivered:${jobKey}`;
  if (await deps.redis.exists(marker)) return;
  await deliver();
  await deps.redis.set(marker, deps.workerId, 'PX', deps.deliveryMarkerTtlMs);
}
