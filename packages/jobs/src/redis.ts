import type { Redis } from 'ioredis';

/** Who holds a Redis connection: workers block and must wait out outages; producers fail fast. */
export type RedisRole = 'worker' | 'producer';

/** Connection options BullMQ passes to ioredis for the given role. */
export interface RedisConnectionOptions {
  url: string;
  maxRetriesPerRequest: number | null;
  enableOfflineQueue: boolean;
  /** Milliseconds before reconnect attempt `times` (1, 2, ...). */
  retryStrategy: (times: number) => number;
}

/**
 * Reconnects quickly after an outage: 100 ms, 200 ms ... then every second. (BullMQ's own
 * default for workers grows to 20 s, so a worker could sit idle for 20 s after Redis is back.)
 */
export function reconnectDelayMs(times: number): number {
  return Math.min(1_000, 100 * times);
}

/**
 * Connection settings for BullMQ: workers need `maxRetriesPerRequest: null` (blocking commands
 * must never time out); producers fail a request fast instead of queueing commands while Redis
 * is down, so an HTTP request or chat event gets an error rather than hanging.
 */
export function redisConnection(url: string, role: RedisRole): RedisConnectionOptions {
  return role === 'worker'
    ? { url, maxRetriesPerRequest: null, enableOfflineQueue: true, retryStrategy: reconnectDelayMs }
    : { url, maxRetriesPerRequest: 1, enableOfflineQueue: false, retryStrategy: reconnectDelayMs };
}

/** Socket errors of a connection that is down or going down (retried by ioredis). */
const CONNECTION_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);

/** What `logRedisErrors` needs of a logger (pino's shape). */
export interface WarnLogger {
  warn(fields: Record<string, unknown>, message: string): void;
}

/** Anything that emits ioredis-style `error` events (ioredis clients, BullMQ classes). */
export interface ErrorEmitter {
  on(event: 'error', listener: (error: Error) => void): unknown;
}

/**
 * Sends a connection's `error` events to the logger (instead of ioredis' "Unhandled error
 * event" on stderr). Connection errors are logged at most once every `everyMs` per connection,
 * since an outage retried every second would otherwise log every second; other errors every time.
 * Messages never carry the URL's password.
 */
export function logRedisErrors(
  emitter: ErrorEmitter,
  logger: WarnLogger,
  what: string,
  everyMs = 10_000,
): void {
  let lastLogged = 0;
  let suppressed = 0;
  emitter.on('error', (error) => {
    const code = (error as { code?: unknown }).code;
    if (typeof code !== 'string' || !CONNECTION_ERROR_CODES.has(code)) {
      // Not the connection: say it every time.
      logger.warn({ code }, `${what} error: ${error.message}`);
      return;
    }
    const now = Date.now();
    if (now - lastLogged < everyMs) {
      suppressed++;
      return;
    }
    logger.warn(
      { code: (error as { code?: unknown }).code, suppressed },
      `${what}: Redis connection error: ${error.message}`,
    );
    lastLogged = now;
    suppressed = 0;
  });
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
