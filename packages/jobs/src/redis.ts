import type { Redis } from 'ioredis';

/** Who holds a Redis connection: workers block and must wait out outages; producers fail fast. */
export type RedisRole = 'worker' | 'producer';

/** Connection options BullMQ passes to ioredis for the given role. */
export interface RedisConnectionOptions {
  url: string;
  maxRetriesPerRequest: number | null;
  enableOfflineQueue: boolean;
}

/**
 * Connection settings for BullMQ: workers need `maxRetriesPerRequest: null` (blocking commands
 * must never time out); producers fail a request fast instead of queueing commands while Redis
 * is down, so an HTTP request or chat event gets an error rather than hanging.
 */
export function redisConnection(url: string, role: RedisRole): RedisConnectionOptions {
  return role === 'worker'
    ? { url, maxRetriesPerRequest: null, enableOfflineQueue: true }
    : { url, maxRetriesPerRequest: 1, enableOfflineQueue: false };
}

/**
 * Resolves once an ioredis connection can take commands. A producer connection has no offline
 * queue, so a command sent before then fails at once: a server must wait for this before it
 * accepts requests. Rejects, naming the host (never the password), when the connection is not
 * ready within `timeoutMs`.
 */
export async function whenRedisReady(redis: Redis, url: string, timeoutMs = 30_000): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      redis.off('ready', onReady);
      const { host } = new URL(url);
      reject(new Error(`Redis at ${host} is not reachable after ${timeoutMs / 1000} s`));
    }, timeoutMs);
    redis.once('ready', onReady);
  });
}
