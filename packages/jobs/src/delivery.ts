import { type JobsOptions, Queue } from 'bullmq';
import { z } from 'zod';
import { replyTargetSchema } from './job-data.js';
import { type RedisRole, redisConnection } from './redis.js';

/** The chat platforms that deliver their own results (each app runs a delivery worker). */
export const chatPlatforms = ['discord', 'slack'] as const;
export type ChatPlatform = (typeof chatPlatforms)[number];

/** True when a target is delivered by a chat app rather than by the conversion worker. */
export function isChatPlatform(kind: string): kind is ChatPlatform {
  return (chatPlatforms as readonly string[]).includes(kind);
}

/** What a finished conversion job hands to a chat app: the stored result, or why it failed. */
export const deliveryOutcomeSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('result'),
    /** The result's storage key; the chat app reads the bytes from storage. */
    resultKey: z.string().min(1),
    filename: z.string().min(1),
    contentType: z.string().min(1),
    bytes: z.number().int().min(0),
    model: z.string(),
    warnings: z.array(z.string()),
  }),
  z.object({
    kind: z.literal('failure'),
    /** A message for the person who asked (never a path, key or stack). */
    message: z.string().min(1),
  }),
]);
export type DeliveryOutcome = z.infer<typeof deliveryOutcomeSchema>;

/** One delivery: which conversion job ended, where its outcome goes, and the outcome. */
export const deliveryJobDataSchema = z.object({
  version: z.literal(1),
  /** The conversion job's id (also this delivery's job id: one delivery per conversion). */
  conversionJobId: z.string().min(1),
  target: replyTargetSchema.refine((target) => target.kind !== 'api', {
    message: 'API requests are answered by the worker, not through a delivery queue',
  }),
  outcome: deliveryOutcomeSchema,
  /** Milliseconds since the epoch when the conversion ended. */
  finishedAt: z.number().int(),
});
export type DeliveryJobData = z.infer<typeof deliveryJobDataSchema>;

/** The BullMQ job name of deliveries. */
export const DELIVERY_JOB_NAME = 'deliver';

/**
 * The delivery queue of one platform for one conversion queue: `<conversion queue>-deliver-<platform>`,
 * so that test stacks on fresh conversion queues get fresh delivery queues too.
 */
export function deliveryQueueName(conversionQueueName: string, platform: ChatPlatform): string {
  return `${conversionQueueName}-deliver-${platform}`;
}

/** Opens a platform's delivery queue (the worker adds to it, the chat app consumes it). */
export function openDeliveryQueue(
  redisUrl: string,
  conversionQueueName: string,
  platform: ChatPlatform,
  role: RedisRole = 'producer',
): Queue<DeliveryJobData> {
  return new Queue<DeliveryJobData>(deliveryQueueName(conversionQueueName, platform), {
    connection: redisConnection(redisUrl, role),
  });
}

/**
 * Retries of one delivery: Discord or Slack being down for a few minutes is retried here
 * (about 8.5 minutes in all), without running the model again.
 */
export const deliveryJobOptions = {
  attempts: 9,
  backoff: { type: 'exponential', delay: 2_000 },
} as const satisfies JobsOptions;

/**
 * Hands a conversion's outcome to its platform's delivery queue. The job id is the conversion
 * job's, so a conversion retried after its worker died hands off once. Delivery jobs are kept
 * for `retentionMs` after they end (for operators), then removed.
 */
export async function enqueueDelivery(
  queue: Queue<DeliveryJobData>,
  data: DeliveryJobData,
  retentionMs: number,
): Promise<void> {
  const parsed = deliveryJobDataSchema.parse(data);
  const age = Math.max(1, Math.round(retentionMs / 1000));
  await queue.add(DELIVERY_JOB_NAME, parsed, {
    ...deliveryJobOptions,
    jobId: parsed.conversionJobId,
    removeOnComplete: { age, count: 5_000 },
    removeOnFail: { age, count: 10_000 },
  });
}
