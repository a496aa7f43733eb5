import { mkdtemp, rm } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { type CoreConfig, isBgRemoverError, ModelDownloadError } from '@bgremover/core';
import {
  appKey,
  type ConversionJobData,
  type ConversionJobResult,
  conversionJobDataSchema,
  resultStorageKey,
  type Storage,
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
import { StorageFaultError, withStorageRetry } from './storage-retry.js';

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
  /** Each job's deadline by media kind (JOB_TIMEOUT_MS, IMAGE_JOB_TIMEOUT_MS); see defaults. */
  jobTimeoutMs?: Partial<Record<ConversionJobData['mediaKind'], number>>;
  /** How long storage faults that may pass are retried (default five minutes). */
  storageRetryBudgetMs?: number;
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
  /** BullMQ's processor signal (the job was cancelled or the worker is closing). */
  signal?: AbortSignal,
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
  const timeoutMs = deps.jobTimeoutMs?.[data.mediaKind] ?? DEFAULT_JOB_TIMEOUT_MS[data.mediaKind];
  const deadline = AbortSignal.timeout(timeoutMs);
  const jobSignal = signal ? AbortSignal.any([signal, deadline]) : deadline;
  // Named after this process, so that housekeeping can tell a dead worker's folders.
  const scratchDir = await mkdtemp(scratchPrefix());
  const reportProgress = progressReporter(job);
  const progress = (update: JobProgress) => {
    reportProgress(update);
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
    const output = await untilAborted(
      runner(data, {
        config: deps.core,
        logger: {
          info: (m, f) => logger.info(f ?? {}, m),
          warn: (m, f) => logger.warn(f ?? {}, m),
        },
        inputPath,
        backgroundPath,
        scratchDir,
        onProgress: progress,
        signal: jobSignal,
      }),
      jobSignal,
    );

    progress({ stage: 'storing', percent: 95 });
    const resultKey = resultStorageKey(jobId, output.filename);
    const bytes = await storeOutput(deps, resultKey, output, logger);
    const deliverable: DeliverableResult = {
      resultKey,
      filename: output.filename,
      contentType: output.contentType,
      bytes,
      model: output.model,
      warnings: output.warnings,
    };
    progress({ stage: 'delivering', percent: 98 });
    await deliverOnce(deps, job.queueName, jobId, () =>
      adapter.deliverResult(data.target, deliverable, context),
    );
    return { ...deliverable, worker: deps.workerId, elapsedMs: performance.now() - started };
  } catch (error) {
    const failure = deadline.aborted
      ? { message: deadlineMessage(data.mediaKind, timeoutMs), retryable: false }
      : describeFailure(error);
    const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    if (!failure.retryable || lastAttempt) {
      if (failure.retryable) logger.error({ err: error }, 'job failed after its last attempt');
      else logger.info({ reason: failure.message }, 'job refused its input');
      await deliverOnce(deps, job.queueName, jobId, () =>
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

/** Least time between two progress reports of one stage (each report is a Redis write and an event). */
export const PROGRESS_INTERVAL_MS = 1_000;

/**
 * Reports a job's progress to BullMQ (and so to QueueEvents listeners: the chat apps) at every
 * change of stage, and within a stage at most every `PROGRESS_INTERVAL_MS`: a video reports per
 * frame, which would otherwise be a Redis write and an event per frame.
 */
function progressReporter(job: Job<ConversionJobData, ConversionJobResult>) {
  let lastStage: JobProgress['stage'] | undefined;
  let lastAt = 0;
  return (update: JobProgress) => {
    const now = performance.now();
    const framesFinished =
      update.framesTotal !== undefined && update.framesDone === update.framesTotal;
    if (update.stage === lastStage && !framesFinished && now - lastAt < PROGRESS_INTERVAL_MS)
      return;
    lastStage = update.stage;
    lastAt = now;
    job.updateProgress(update).catch(() => undefined);
  };
}

/** Each job's deadline when the worker's configuration names none: 30 min (video), 5 min (image). */
export const DEFAULT_JOB_TIMEOUT_MS: Record<ConversionJobData['mediaKind'], number> = {
  video: 30 * 60_000,
  image: 5 * 60_000,
};

/**
 * Settles with `work`, or rejects with the signal's reason once it aborts. Video stops its
 * ffmpeg processes on the same signal and settles within a frame; the wait for `work` to settle
 * (at most `ABORT_GRACE_MS`, for an image, whose work takes no signal) keeps the job from ending
 * while the model is still running for it, which a worker closing next would cut short.
 */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  work.catch(() => undefined);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((done) => {
        timer = setTimeout(done, ABORT_GRACE_MS);
      });
      Promise.race([
        work.then(
          () => undefined,
          () => undefined,
        ),
        grace,
      ]).then(() => {
        clearTimeout(timer);
        reject(signal.reason);
      });
    };
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** How long an aborted job waits for its work to settle before it fails anyway. */
const ABORT_GRACE_MS = 10_000;

function deadlineMessage(kind: ConversionJobData['mediaKind'], timeoutMs: number): string {
  const variable = kind === 'video' ? 'JOB_TIMEOUT_MS' : 'IMAGE_JOB_TIMEOUT_MS';
  const limit =
    timeoutMs >= 60_000 ? `${(timeoutMs / 60_000).toFixed(1)} min` : `${timeoutMs / 1000} s`;
  return `The job did not finish within ${limit}, this worker's limit for one ${kind} (${variable}), and was stopped${kind === 'video' ? ': send a shorter clip, or a lower frame_limit or framerate' : ''}`;
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

/**
 * Stores the result, retrying storage faults that may pass (a full disk being cleared, a
 * remount, S3 coming back) for `storageRetryBudgetMs` without running the model again. A fault
 * that cannot pass, or one that outlasts the budget, fails the job for good with a message that
 * names the fault, never a key or path.
 */
async function storeOutput(
  deps: ProcessorDeps,
  key: string,
  output: MediaOutput,
  logger: Logger,
): Promise<number> {
  const options = { downloadName: output.filename };
  const body = output.body;
  try {
    return await withStorageRetry(
      async () => {
        if (body.kind === 'buffer') {
          await deps.storage.put(key, body.data, output.contentType, options);
          return body.data.length;
        }
        await deps.storage.putFile(key, body.path, output.contentType, options);
        return body.bytes;
      },
      {
        budgetMs: deps.storageRetryBudgetMs ?? DEFAULT_STORAGE_RETRY_BUDGET_MS,
        onRetry: (fault, attempt, waitMs) =>
          logger.warn(
            { code: fault.code, attempt, waitMs },
            `storing the result: ${fault.summary}; retrying`,
          ),
      },
    );
  } catch (error) {
    // The full error (with keys and paths) goes to the operator's log only.
    logger.error({ err: error }, 'storing the result failed');
    const summary = error instanceof StorageFaultError ? error.message : 'storage failed';
    throw new UnrecoverableError(`Storing the result failed: ${summary}; it has been logged`);
  }
}

/** Five minutes: long enough for an operator to clear a full disk. */
const DEFAULT_STORAGE_RETRY_BUDGET_MS = 5 * 60_000;

/**
 * Delivers at most once per job: a job retried after its worker died between delivering and
 * completing does not post its result twice. The marker lives in Redis as long as results.
 */
async function deliverOnce(
  deps: ProcessorDeps,
  /** Job ids repeat across queues (and chat-derived ids are reused): the marker names both. */
  queueName: string,
  jobId: string,
  deliver: () => Promise<void>,
): Promise<void> {
  const marker = appKey(queueName, 'delivered', jobId);
  if (await deps.redis.exists(marker)) return;
  await deliver();
  await deps.redis.set(marker, deps.workerId, 'PX', deps.deliveryMarkerTtlMs);
}
