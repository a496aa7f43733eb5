import type { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { ConversionJobData } from './job-data.js';
import { type ConversionJobResult, openConversionQueue } from './queue.js';
import { logRedisErrors, reconnectDelayMs, type WarnLogger } from './redis.js';

/** What a chat app holds to add jobs and keep its own state: the queue and a Redis client. */
export interface ProducerConnections {
  queue: Queue<ConversionJobData, ConversionJobResult>;
  redis: Redis;
  /** Closes the queue, then the Redis client. */
  close(): Promise<void>;
}

/**
 * Opens a producer's connections to the conversion queue and to Redis for its own state (claims,
 * limits, remembered messages). A command fails after one retry instead of hanging through an
 * outage, the client reconnects within a second when Redis is back, and connection errors go to
 * the logger (once per 10 s) instead of "Unhandled error event" on stderr.
 */
export function openProducerConnections(
  jobs: { redisUrl: string; queueName: string },
  logger: WarnLogger,
): ProducerConnections {
  const queue = openConversionQueue(jobs.redisUrl, jobs.queueName);
  const redis = new Redis(jobs.redisUrl, {
    maxRetriesPerRequest: 1,
    retryStrategy: reconnectDelayMs,
  });
  logRedisErrors(redis, logger, 'redis');
  logRedisErrors(queue, logger, 'queue');
  return {
    queue,
    redis,
    close: async () => {
      await queue.close();
      await redis.quit();
    },
  };
}
