import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Job, QueueEvents, UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import {
  type ChatPlatform,
  type DeliveryJobData,
  deliveryJobDataSchema,
  deliveryQueueName,
} from './delivery.js';
import type { ConversionJobData, ReplyTarget } from './job-data.js';
import { type JobProgress, parseJobProgress } from './job-progress.js';
import { openConversionQueue } from './queue.js';
import { logRedisErrors, reconnectDelayMs, redisConnection, type WarnLogger } from './redis.js';
import { appKey } from './redis-keys.js';

/** A target of one chat platform. */
export type PlatformTarget<P extends ChatPlatform> = Extract<ReplyTarget, { kind: P }>;

/**
 * Thrown by a delivery handler when retrying cannot help (the bot lacks a permission, the channel
 * is gone): the delivery fails at once, and `onGaveUp` is called to tell whoever can be told.
 */
export class PermanentDeliveryError extends Error {
  constructor(
    message: string,
    /** The platform's own error code, for logs and for the message to the person. */
    readonly code?: string | number,
  ) {
    super(message);
    this.name = 'PermanentDeliveryError';
  }
}

/** What one chat app does with its deliveries and its jobs' progress. */
export interface DeliveryHandlers<P extends ChatPlatform> {
  /** Posts one outcome. Throws to retry; throws PermanentDeliveryError to stop. */
  deliver(data: DeliveryJobData & { target: PlatformTarget<P> }, attempt: number): Promise<void>;
  /**
   * Called once a delivery will not be retried again (permanent error, or the last attempt):
   * the app tells the person what it can (best effort; errors are logged).
   */
  onGaveUp?(data: DeliveryJobData & { target: PlatformTarget<P> }, error: Error): Promise<void>;
  /** A conversion job of this platform reported progress (called for every report). */
  progress?(
    target: PlatformTarget<P>,
    progress: JobProgress,
    conversionJobId: string,
  ): Promise<void>;
}

/** What the delivery worker needs of a logger (pino's shape). */
export interface DeliveryLogger extends WarnLogger {
  info(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

export interface DeliveryWorkerOptions<P extends ChatPlatform> {
  redisUrl: string;
  /** The conversion queue whose jobs this app enqueued (its delivery queue is derived). */
  conversionQueueName: string;
  platform: P;
  handlers: DeliveryHandlers<P>;
  logger: DeliveryLogger;
  /** Deliveries posted at once (default 4). */
  concurrency?: number;
}

export interface RunningDeliveryWorker {
  worker: Worker<DeliveryJobData>;
  /** Stops taking deliveries, lets the running ones finish, and closes every connection. */
  close(): Promise<void>;
}

/**
 * Runs a chat app's side of delivery: a BullMQ worker on the platform's delivery queue (each
 * outcome posted by `handlers.deliver`, retried with backoff and never by re-running the model)
 * and, when `handlers.progress` is given, a QueueEvents listener on the conversion queue that
 * passes this platform's progress reports on. One process shows each job's progress (the first
 * to claim it in Redis), however many replicas of the app run; progress for a job whose delivery
 * this process has started is dropped, so an edit never lands after the final message.
 */
export async function startDeliveryWorker<P extends ChatPlatform>(
  options: DeliveryWorkerOptions<P>,
): Promise<RunningDeliveryWorker> {
  const { handlers, logger, platform } = options;
  const delivered = new RecentIds(5_000);

  const worker = new Worker<DeliveryJobData>(
    deliveryQueueName(options.conversionQueueName, platform),
    async (job) => {
      const data = parsePlatformDelivery(job.data, platform);
      if (!data) throw new UnrecoverableError('Malformed delivery data');
      delivered.add(data.conversionJobId);
      try {
        await handlers.deliver(data, job.attemptsMade + 1);
      } catch (error) {
        const failure = error instanceof Error ? error : new Error(String(error));
        const permanent = failure instanceof PermanentDeliveryError;
        const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
        if (permanent || lastAttempt) {
          logger.error(
            { err: failure, jobId: data.conversionJobId, attempt: job.attemptsMade + 1 },
            'delivery gave up',
          );
          await handlers
            .onGaveUp?.(data, failure)
            .catch((reportError: unknown) =>
              logger.warn({ err: reportError }, 'could not report a failed delivery'),
            );
        } else {
          logger.info(
            { err: failure, jobId: data.conversionJobId, attempt: job.attemptsMade + 1 },
            'delivery failed; will retry',
          );
        }
        if (permanent) throw new UnrecoverableError(failure.message);
        throw failure;
      }
    },
    {
      connection: redisConnection(options.redisUrl, 'worker'),
      concurrency: options.concurrency ?? 4,
    },
  );
  logRedisErrors(worker, logger, `${platform} delivery worker`);

  let closeProgress: () => Promise<void> = async () => undefined;
  const onProgress = handlers.progress;
  if (onProgress) {
    const events = new QueueEvents(options.conversionQueueName, {
      connection: redisConnection(options.redisUrl, 'worker'),
    });
    logRedisErrors(events, logger, `${platform} progress events`);
    const queue = openConversionQueue(options.redisUrl, options.conversionQueueName, 'worker');
    logRedisErrors(queue, logger, `${platform} progress lookups`);
    const targets = new TargetCache(2_000);
    const redis = new Redis(options.redisUrl, {
      maxRetriesPerRequest: null,
      retryStrategy: reconnectDelayMs,
    });
    logRedisErrors(redis, logger, `${platform} progress claims`);
    const owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    // One app process shows a job's progress, however many replicas listen to the events.
    const ownTarget = async (jobId: string): Promise<ReplyTarget | undefined> => {
      const job = await Job.fromId<ConversionJobData>(queue, jobId);
      const target = job?.data.target;
      if (target?.kind !== platform) return undefined;
      const key = appKey(options.conversionQueueName, 'progress-owner', jobId);
      const claimed = await redis.set(key, owner, 'PX', PROGRESS_OWNER_TTL_MS, 'NX');
      if (claimed === 'OK' || (await redis.get(key)) === owner) return target;
      return undefined;
    };
    events.on('progress', ({ jobId, data }) => {
      const progress = parseJobProgress(data);
      if (!progress || delivered.has(jobId)) return;
      targets
        .lookup(jobId, () => ownTarget(jobId))
        .then((target) => {
          if (target?.kind !== platform || delivered.has(jobId)) return;
          return onProgress(target as PlatformTarget<P>, progress, jobId);
        })
        .catch((error: unknown) => logger.warn({ err: error, jobId }, 'progress report failed'));
    });
    await events.waitUntilReady();
    closeProgress = async () => {
      await events.close();
      await queue.close();
      await redis.quit().catch(() => undefined);
    };
  }

  await worker.waitUntilReady();
  return {
    worker,
    close: async () => {
      await worker.close();
      await closeProgress();
    },
  };
}

function parsePlatformDelivery<P extends ChatPlatform>(
  value: unknown,
  platform: P,
): (DeliveryJobData & { target: PlatformTarget<P> }) | undefined {
  const parsed = deliveryJobDataSchema.safeParse(value);
  if (!parsed.success || parsed.data.target.kind !== platform) return undefined;
  return parsed.data as DeliveryJobData & { target: PlatformTarget<P> };
}

/** A bounded set of recently seen ids (oldest forgotten first). */
class RecentIds {
  private readonly ids = new Set<string>();
  constructor(private readonly max: number) {}
  add(id: string): void {
    this.ids.add(id);
    if (this.ids.size > this.max) {
      const oldest = this.ids.values().next().value;
      if (oldest !== undefined) this.ids.delete(oldest);
    }
  }
  has(id: string): boolean {
    return this.ids.has(id);
  }
}

/** How long a process keeps the right to show one job's progress (longer than any job). */
const PROGRESS_OWNER_TTL_MS = 6 * 3600_000;

/** Conversion job targets by job id, looked up once per job (bounded, oldest forgotten first). */
class TargetCache {
  private readonly targets = new Map<string, Promise<ReplyTarget | undefined>>();
  constructor(private readonly max: number) {}

  lookup(
    jobId: string,
    load: () => Promise<ReplyTarget | undefined>,
  ): Promise<ReplyTarget | undefined> {
    const known = this.targets.get(jobId);
    if (known) return known;
    const pending = load();
    pending.catch(() => this.targets.delete(jobId));
    this.targets.set(jobId, pending);
    if (this.targets.size > this.max) {
      const oldest = this.targets.keys().next().value;
      if (oldest !== undefined) this.targets.delete(oldest);
    }
    return pending;
  }
}
