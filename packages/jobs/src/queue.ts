import { Queue } from 'bullmq';
import type { ConversionJobData } from './job-data.js';
import { type RedisRole, redisConnection } from './redis.js';

/** The queue every producer adds conversion jobs to and every worker takes them from. */
export const DEFAULT_QUEUE_NAME = 'bgremover-conversions';

/** The BullMQ job name used for conversions (one job per input file). */
export const CONVERSION_JOB_NAME = 'convert';

/** A stored result, by reference (never the bytes): what every reply target is given. */
export interface StoredResult {
  /** Storage key of the result (the API serves it from there; chat apps read it). */
  resultKey: string;
  /** File name to show and to upload under. */
  filename: string;
  contentType: string;
  bytes: number;
  model: string;
  warnings: string[];
}

/** What a worker returns for a finished job (kept in Redis with the job; no bytes). */
export interface ConversionJobResult extends StoredResult {
  /** Which worker process did the work (host:pid), for operations and tests. */
  worker: string;
  elapsedMs: number;
}

/** Opens the conversion queue for adding or inspecting jobs. */
export function openConversionQueue(
  redisUrl: string,
  queueName = DEFAULT_QUEUE_NAME,
  role: RedisRole = 'producer',
): Queue<ConversionJobData, ConversionJobResult> {
  return new Queue<ConversionJobData, ConversionJobResult>(queueName, {
    connection: redisConnection(redisUrl, role),
  });
}
