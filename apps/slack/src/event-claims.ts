import { appKey } from '@bgremover/jobs';
import type { Redis } from 'ioredis';

/**
 * Remembers, in Redis, what was already handled: Slack's retries of an event
 * (`X-Slack-Retry-Num`), and each file of a message a reaction started, so that a second
 * person's reaction (or one removed and added again), whichever app instance it reaches, is
 * recognised and skipped.
 */
export class EventClaims {
  constructor(
    private readonly redis: Redis,
    /** The conversion queue: claims are namespaced by it. */
    private readonly queueName: string,
    private readonly ttlMs = 24 * 3600 * 1000,
  ) {}

  /** True the first time `key` is claimed, false for every later claim within the TTL. */
  async claim(key: string): Promise<boolean> {
    const answer = await this.redis.set(
      appKey(this.queueName, 'slack', 'claim', key),
      '1',
      'PX',
      this.ttlMs,
      'NX',
    );
    return answer === 'OK';
  }

  /** Gives a claim back (the work it stood for could not start). */
  async release(key: string): Promise<void> {
    await this.redis.del(appKey(this.queueName, 'slack', 'claim', key));
  }
}
