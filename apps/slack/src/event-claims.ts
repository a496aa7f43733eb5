import type { Redis } from 'ioredis';

/**
 * Remembers which Slack deliveries were handled, in Redis, so that Slack's retries of an event
 * (`X-Slack-Retry-Num`), whichever app instance they reach, are recognised and skipped.
 */
export class EventClaims {
  constructor(
    private readonly redis: Redis,
    private readonly ttlMs = 24 * 3600 * 1000,
  ) {}

  /** True the first time `key` is claimed, false for every later claim within the TTL. */
  async claim(key: string): Promise<boolean> {
    const answer = await this.redis.set(
      `bgremover:slack:claim:${key}`,
      '1',
      'PX',
      this.ttlMs,
      'NX',
    );
    return answer === 'OK';
  }
}
