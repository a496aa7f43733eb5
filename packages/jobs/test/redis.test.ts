import { createServer } from 'node:net';
import { testRedisUrl } from '@bgremover/test-kit';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { redisConnection, whenRedisReady } from '../src/index.js';

const REDIS_URL = testRedisUrl();

/** A port nothing listens on (taken, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

describe('whenRedisReady', () => {
  it('waits until a producer connection (no offline queue) can take commands', async () => {
    const redis = new Redis(REDIS_URL, redisConnection(REDIS_URL, 'producer'));
    // Sent before the connection is up, a command is refused at once: the race a server avoids.
    await expect(redis.ping()).rejects.toThrow(/enableOfflineQueue/);
    await whenRedisReady(redis, REDIS_URL);
    expect(await redis.ping()).toBe('PONG');
    await redis.quit();
  });

  it('names the host, not the password, when Redis cannot be reached', async () => {
    const url = `redis://:secret@127.0.0.1:${await closedPort()}`;
    const redis = new Redis(url, { enableOfflineQueue: false, lazyConnect: false });
    redis.on('error', () => undefined);
    const waiting = whenRedisReady(redis, url, 500);
    await expect(waiting).rejects.toThrow(
      /^Redis at 127\.0\.0\.1:\d+ is not reachable after 0\.5 s$/,
    );
    redis.disconnect();
  });
});
