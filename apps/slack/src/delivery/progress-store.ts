import { appKey } from '@bgremover/jobs';
import type { Redis } from 'ioredis';

/**
 * Which message shows a job's progress when the app posted one before the job started (its
 * place in a long queue), kept in Redis so that whichever app instance delivers the job edits
 * that message instead of posting another.
 */
export class ProgressMessageStore {
  constructor(
    private readonly redis: Redis,
    private readonly queueName: string,
    private readonly ttlMs: number,
  ) {}

  private key(jobId: string): string {
    return appKey(this.queueName, 'slack', 'progress', jobId);
  }

  /** Remembers the progress message of a job. */
  async set(jobId: string, ts: string): Promise<void> {
    await this.redis.set(this.key(jobId), ts, 'PX', this.ttlMs);
  }

  /** The job's progress message, if the app posted one. */
  async get(jobId: string): Promise<string | undefined> {
    return (await this.redis.get(this.key(jobId))) ?? undefined;
  }
}
