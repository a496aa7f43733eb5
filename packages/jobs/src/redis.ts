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
