import { stat } from 'node:fs/promises';
import { Queue } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { testRedisUrl } from '../src/redis-url.js';
import { openTestStack } from '../src/stack.js';

describe('openTestStack', () => {
  it('gives a fresh queue, storage folder and environment on the run’s Redis', async () => {
    const [one, two] = await Promise.all([
      openTestStack({ prefix: 'kit', env: { LOG_LEVEL: 'debug' } }),
      openTestStack({ prefix: 'kit' }),
    ]);
    try {
      expect(one?.queueName).toMatch(/^kit-[0-9a-f]{8}$/);
      expect(one?.queueName).not.toBe(two?.queueName);
      expect(one?.env).toMatchObject({
        REDIS_URL: testRedisUrl(),
        QUEUE_NAME: one?.queueName,
        STORAGE_DIR: one?.storageDir,
        HEALTH_PORT: '0',
        LOG_LEVEL: 'debug',
      });
      expect((await stat(one?.storageDir ?? '')).isDirectory()).toBe(true);
    } finally {
      await one?.close();
      await two?.close();
    }
  });

  it('closes what was deferred last first, once, then obliterates its queues and folder', async () => {
    const stack = await openTestStack({ prefix: 'kit' });
    const queue = new Queue(stack.queueName, { connection: { url: stack.redisUrl } });
    const extra = new Queue(`${stack.queueName}-extra`, { connection: { url: stack.redisUrl } });
    await queue.add('job', {});
    await extra.add('job', {});
    stack.ownQueue(extra.name);
    const closed: string[] = [];
    stack.defer(() => closed.push('first'));
    stack.defer(async () => {
      closed.push('second');
    });
    await stack.close();
    await stack.close();
    expect(closed).toEqual(['second', 'first']);
    expect(await queue.getJobCounts('waiting')).toEqual({ waiting: 0 });
    expect(await extra.getJobCounts('waiting')).toEqual({ waiting: 0 });
    await expect(stat(stack.storageDir)).rejects.toThrow(/ENOENT/);
    await queue.close();
    await extra.close();
  });
});
