import type { Queue } from 'bullmq';

/**
 * The number of jobs waiting or running in the queue, read from Redis at most once per
 * `maxAgeMs` however many clients poll: `/v1/results/` under many pollers costs one count query
 * per interval instead of one per poll. A count a quarter of a second old is fine for "your
 * position in the queue".
 */
export class QueueDepth {
  private cached: { at: number; value: Promise<number> } | undefined;

  constructor(
    private readonly queue: Queue,
    private readonly maxAgeMs = 250,
  ) {}

  /** Jobs waiting, prioritized, delayed or active. */
  current(): Promise<number> {
    const now = Date.now();
    if (!this.cached || now - this.cached.at > this.maxAgeMs) {
      const value = this.queue
        .getJobCounts('waiting', 'prioritized', 'active', 'delayed')
        .then((counts) => Object.values(counts).reduce((sum, count) => sum + count, 0));
      value.catch(() => {
        this.cached = undefined;
      });
      this.cached = { at: now, value };
    }
    return this.cached.value;
  }
}
