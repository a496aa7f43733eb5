import { z } from 'zod';

/**
 * How far a conversion job is, as the worker reports it with `job.updateProgress` (so
 * QueueEvents carry it to the chat apps and the API reads it from the job).
 */
export const jobProgressSchema = z.object({
  stage: z.enum(['fetching', 'processing', 'storing', 'delivering']),
  percent: z.number().min(0).max(100),
  framesDone: z.number().int().min(0).optional(),
  framesTotal: z.number().int().min(0).optional(),
});
export type JobProgress = z.infer<typeof jobProgressSchema>;

/** A progress value read back from BullMQ, or undefined when it is not one of ours. */
export function parseJobProgress(value: unknown): JobProgress | undefined {
  const parsed = jobProgressSchema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}
