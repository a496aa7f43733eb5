import { Redis } from 'ioredis';
import { TestRedisServer } from './redis-server.js';

/** The Redis that answers on a machine without settings. */
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/** A Redis the tests may use, and how to let it go. */
export interface EnsuredRedis {
  url: string;
  /** Whether `ensureRedis` started this server (it is stopped by `stop`). */
  started: boolean;
  /** Stops the server if `ensureRedis` started it; leaves one that was already running alone. */
  stop(): Promise<void>;
}

/** Whether a Redis at `url` answers PING within `timeoutMs`; never throws. */
export async function redisAnswers(url: string, timeoutMs = 1_000): Promise<boolean> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

/**
 * A Redis for tests: `$REDIS_URL` if it answers, else the one on 127.0.0.1:6379 if it answers,
 * else a `redis-server` started on a free port (stopped by `stop`). `defaultUrl` replaces the
 * usual local address (the kit's own test points it at a closed port).
 */
export async function ensureRedis(
  env: NodeJS.ProcessEnv = process.env,
  defaultUrl = DEFAULT_REDIS_URL,
): Promise<EnsuredRedis> {
  const candidates = [env.REDIS_URL, defaultUrl].filter((url): url is string => !!url);
  for (const url of candidates) {
    if (await redisAnswers(url)) return { url, started: false, stop: async () => undefined };
  }
  const server = await TestRedisServer.start();
  return { url: server.url, started: true, stop: () => server.kill() };
}
