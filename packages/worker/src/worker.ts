import type { Server } from 'node:http';
import { closeInferenceThread, closeMattingWorker, releaseModels } from '@bgremover/core';
import {
  ApiRequestStore,
  type ConversionJobData,
  type ConversionJobResult,
  logRedisErrors,
  openConversionQueue,
  openStorage,
  reconnectDelayMs,
  redisConnection,
  serviceLogger,
} from '@bgremover/jobs';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { WorkerConfig } from './config.js';
import { startHealthServer } from './health-server.js';
import { startHousekeeping } from './housekeeping.js';
import { WorkerMetrics } from './metrics.js';
import { type MediaRunner, processConversionJob } from './process-job.js';
import type { ReplyAdapters } from './reply/adapter.js';
import { ApiReplyAdapter } from './reply/api-adapter.js';
import { DeliveryQueueAdapter } from './reply/delivery-queue-adapter.js';

export interface RunningWorker {
  worker: Worker<ConversionJobData, ConversionJobResult>;
  metrics: WorkerMetrics;
  /** The port `/healthz` and `/metrics` listen on. */
  healthPort: number;
  /**
   * Stops taking jobs, waits for the running ones to finish, and closes every connection. Jobs
   * still queued stay in Redis for other workers.
   */
  close(): Promise<void>;
}

export interface StartWorkerOptions {
  logger?: Logger;
  runners?: Partial<Record<ConversionJobData['mediaKind'], MediaRunner>>;
}

/**
 * Starts a conversion worker: a BullMQ worker on the configured queue with the configured
 * concurrency, the health/metrics server, and housekeeping (expired results and uploads, stale
 * scratch folders) at start-up and periodically; finished jobs are kept as long as results. The model is
 * loaded once per process on first use and kept.
 */
export async function startConversionWorker(
  config: WorkerConfig,
  options: StartWorkerOptions = {},
): Promise<RunningWorker> {
  const logger =
    options.logger ?? serviceLogger('worker', config.logLevel, { worker: config.workerId });
  const storage = openStorage(config.jobs);
  const redis = new Redis(config.jobs.redisUrl, {
    maxRetriesPerRequest: null,
    retryStrategy: reconnectDelayMs,
  });
  logRedisErrors(redis, logger, 'worker state connection');
  const requests = new ApiRequestStore(redis, config.jobs.resultTtlMs, config.jobs.queueName);
  const queue = openConversionQueue(config.jobs.redisUrl, config.jobs.queueName, 'worker');
  const metrics = new WorkerMetrics(config.workerId);
  // Chat outcomes go to the chat apps' delivery queues: the worker holds no chat token.
  const handOff = new DeliveryQueueAdapter(
    config.jobs.redisUrl,
    config.jobs.queueName,
    config.jobs.resultTtlMs,
  );
  const adapters: ReplyAdapters = {
    api: new ApiReplyAdapter(requests),
    discord: handOff,
    slack: handOff,
  };

  const ttlSeconds = Math.max(1, Math.round(config.jobs.resultTtlMs / 1000));
  const worker = new Worker<ConversionJobData, ConversionJobResult>(
    config.jobs.queueName,
    async (job, _token, signal) => {
      metrics.jobStarted();
      try {
        return await processConversionJob(
          job,
          {
            core: config.core,
            storage,
            redis,
            adapters,
            logger,
            workerId: config.workerId,
            fetch: {
              attachmentHosts: config.attachmentHosts,
              allowPrivateHosts: config.allowPrivateFetchHosts,
              maxBytes: config.maxInputBytes,
              timeoutMs: config.fetchTimeoutMs,
            },
            ...(options.runners ? { runners: options.runners } : {}),
            deliveryMarkerTtlMs: config.jobs.resultTtlMs,
            jobTimeoutMs: { video: config.jobTimeoutMs, image: config.imageJobTimeoutMs },
            storageRetryBudgetMs: config.jobs.storageRetryBudgetMs,
          },
          signal,
        );
      } finally {
        metrics.jobEnded();
      }
    },
    {
      connection: redisConnection(config.jobs.redisUrl, 'worker'),
      // Recorded on each job as processedBy: which worker has it.
      name: config.workerId,
      concurrency: config.concurrency,
      lockDuration: config.lockDurationMs,
      stalledInterval: config.stalledIntervalMs,
      maxStalledCount: 2,
      // Finished jobs (which hold file names) are kept as long as results, then removed.
      removeOnComplete: { age: ttlSeconds, count: 5_000 },
      removeOnFail: { age: ttlSeconds, count: 10_000 },
    },
  );
  worker.on('completed', (job) => {
    metrics.completed((job.returnvalue?.elapsedMs ?? 0) / 1000);
    logger.info(
      { jobId: job.id, ms: Math.round(job.returnvalue?.elapsedMs ?? 0) },
      'job completed',
    );
  });
  worker.on('failed', (job, error) => {
    const willRetry =
      job !== undefined &&
      job.attemptsMade < (job.opts.attempts ?? 1) &&
      error.name !== 'UnrecoverableError';
    metrics.failed(willRetry);
  });
  // Connection errors (an outage retried every second) are logged once per 10 s, not per retry.
  logRedisErrors(worker, logger, 'worker');
  logRedisErrors(queue, logger, 'worker queue');

  const health = await startHealthServer(
    {
      healthy: async () => worker.isRunning() && (await redis.ping()) === 'PONG',
      metrics: () => metrics.render(queue),
    },
    config.healthPort,
    config.healthHost,
  );

  const stopHousekeeping = startHousekeeping({
    storage,
    resultTtlMs: config.jobs.resultTtlMs,
    logger,
  });

  await worker.waitUntilReady();
  logger.info(
    { queue: config.jobs.queueName, concurrency: config.concurrency, healthPort: health.port },
    'worker ready',
  );

  return {
    worker,
    metrics,
    healthPort: health.port,
    close: async () => {
      stopHousekeeping();
      await worker.close();
      await queue.close();
      await handOff.close();
      await closeServer(health.server);
      await redis.quit();
      await releaseModels();
      await closeInferenceThread();
      await closeMattingWorker();
    },
  };
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}
