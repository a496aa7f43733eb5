import type { JobsOptions, Queue } from 'bullmq';
import {
  type ConversionJobData,
  type ConversionJobInput,
  conversionJobDataSchema,
} from './job-data.js';
import { CONVERSION_JOB_NAME, type ConversionJobResult } from './queue.js';

/**
 * Retries and backoff every conversion job gets. Retention is the worker's: it removes finished
 * jobs once they are as old as results (`RESULT_TTL_HOURS`).
 */
export const conversionJobOptions = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 2_000 },
} as const satisfies JobsOptions;

/**
 * Queue priority (lower runs first): images before videos, so a chat user's picture is not
 * stuck behind someone's five-minute clip; longer videos after shorter ones.
 */
export function conversionPriority(mediaKind: 'image' | 'video', durationSeconds?: number): number {
  if (mediaKind === 'image') return 1;
  const seconds = Math.max(0, Math.ceil(durationSeconds ?? 60));
  return 10 + Math.min(seconds, 1_000_000);
}

/**
 * Adds one conversion job. `dedupeKey` becomes the job id, so adding the same key twice (a chat
 * event delivered again, a client retrying) leaves one job; it must be unique per input file.
 * The data is validated against the contract before it reaches Redis.
 */
export async function enqueueConversion(
  queue: Queue<ConversionJobData, ConversionJobResult>,
  data: ConversionJobInput,
  dedupeKey: string,
  options: { durationSeconds?: number; attempts?: number; backoffMs?: number } = {},
): Promise<string> {
  const parsed = conversionJobDataSchema.parse(data);
  const job = await queue.add(CONVERSION_JOB_NAME, parsed, {
    ...conversionJobOptions,
    ...(options.attempts !== undefined ? { attempts: options.attempts } : {}),
    ...(options.backoffMs !== undefined
      ? { backoff: { type: 'exponential', delay: options.backoffMs } }
      : {}),
    jobId: safeJobId(dedupeKey),
    priority: conversionPriority(parsed.mediaKind, options.durationSeconds),
  });
  if (!job.id) throw new Error('BullMQ returned a job without an id');
  return job.id;
}

/** BullMQ job ids may not contain ':' and must not be plain integers. */
function safeJobId(key: string): string {
  const cleaned = key.replace(/[^A-Za-z0-9._-]/g, '_');
  return /^\d+$/.test(cleaned) ? `id-${cleaned}` : cleaned;
}
