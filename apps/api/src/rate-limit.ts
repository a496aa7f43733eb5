import { appKey } from '@bgremover/jobs';
import type { Redis } from 'ioredis';

/**
 * A fixed-window request counter per API key in Redis (shared by every API server). Returns
 * whether the request may proceed and, when not, how many seconds until the window resets.
 */
export async function takeRateLimitToken(
  redis: Redis,
  /** The conversion queue the API feeds: counters are namespaced by it (see `appKey`). */
  queueName: string,
  keyId: string,
  limitPerMinute: number,
): Promise<{ allowed: true } | { allowed: false; retryAfterSeconds: number }> {
  const window = Math.floor(Date.now() / 60_000);
  const counter = appKey(queueName, 'ratelimit', keyId, window);
  const results = await redis.multi().incr(counter).pexpire(counter, 61_000).exec();
  const count = Number(results?.[0]?.[1] ?? 0);
  if (count <= limitPerMinute) return { allowed: true };
  const retryAfterSeconds = Math.max(1, Math.ceil(((window + 1) * 60_000 - Date.now()) / 1000));
  return { allowed: false, retryAfterSeconds };
}
