import { describe, expect, it } from 'vitest';
import { ensureRedis, redisAnswers } from '../src/redis.js';
import { freePort } from '../src/redis-server.js';
import { waitFor } from '../src/wait-for.js';

describe('ensureRedis', () => {
  it('uses a REDIS_URL that answers and leaves it running', async () => {
    const own = await ensureRedis({}, `redis://127.0.0.1:${await freePort()}`);
    try {
      const again = await ensureRedis({ REDIS_URL: own.url });
      expect(again).toMatchObject({ url: own.url, started: false });
      await again.stop();
      expect(await redisAnswers(own.url)).toBe(true);
    } finally {
      await own.stop();
    }
  });

  it('starts a redis-server on a free port when nothing answers, and stop ends it', async () => {
    const closed = `redis://127.0.0.1:${await freePort()}`;
    const redis = await ensureRedis({ REDIS_URL: closed }, closed);
    expect(redis.started).toBe(true);
    expect(redis.url).not.toBe(closed);
    expect(await redisAnswers(redis.url)).toBe(true);
    await redis.stop();
    await waitFor(async () => !(await redisAnswers(redis.url)), {
      timeoutMs: 5_000,
      intervalMs: 50,
      what: 'the server to stop',
    });
  });
});
