import { freshQueueName, testRedisUrl } from '@bgremover/test-kit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiRequestStore } from '../src/index.js';

const REDIS_URL = testRedisUrl();
let redis: Redis;
let store: ApiRequestStore;
const queueName = freshQueueName('request');
/** Request records are `bgremover:<queue>:request:<id>`, in-flight sets `...:inflight-files:<key>`. */
const prefix = `bgremover:${queueName}:`;

beforeAll(() => {
  redis = new Redis(REDIS_URL);
  store = new ApiRequestStore(redis, 60_000, queueName);
});
afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

describe('API request records in Redis', () => {
  it('tracks each file from queued through started to done or failed', async () => {
    await store.create('r1', 'key-a', [
      { filename: 'a.png', jobId: 'r1-0' },
      { filename: 'b.txt', error: 'b.txt is not an image' },
      { filename: 'c.png', jobId: 'r1-2' },
    ]);
    expect(await store.inflight('key-a')).toBe(2);
    let record = await store.get('r1');
    expect(record?.files.map((file) => file.state)).toEqual(['queued', 'failed', 'queued']);
    expect(record?.files[0]).not.toHaveProperty('started');

    await store.markStarted('r1', 0);
    record = await store.get('r1');
    expect(record?.files[0]).toMatchObject({ state: 'queued', started: true });
    expect(record?.files[2]).not.toHaveProperty('started');
    expect(record?.finished).toBe(false);

    await store.markDone('r1', 0, {
      resultKey: 'results/r1-0/a.png',
      resultFilename: 'a_processed.png',
      contentType: 'image/png',
    });
    // A start mark arriving after the result (progress is reported without waiting) changes
    // nothing: the file stays done.
    await store.markStarted('r1', 0);
    await store.markFailed('r1', 2, 'c.png could not be decoded');
    record = await store.get('r1');
    expect(record?.files[0]).toEqual({
      state: 'done',
      filename: 'a.png',
      jobId: 'r1-0',
      resultKey: 'results/r1-0/a.png',
      resultFilename: 'a_processed.png',
      contentType: 'image/png',
    });
    expect(record?.files[2]).toMatchObject({
      state: 'failed',
      error: 'c.png could not be decoded',
    });
    expect(record?.finished).toBe(true);
    expect(await store.inflight('key-a')).toBe(0);
  });

  it('does not bring back an expired or unknown request when a worker marks it started', async () => {
    await store.markStarted('never-created', 0);
    expect(await redis.exists(`${prefix}request:never-created`)).toBe(0);
    expect(await store.get('never-created')).toBeUndefined();
  });
});

describe("a key's files in progress never stay counted for good", () => {
  it('abandon undoes a failed admission: no record, no in-flight entries', async () => {
    await store.create('r2', 'key-b', [
      { filename: 'a.png', jobId: 'r2-0' },
      { filename: 'b.png', jobId: 'r2-1' },
    ]);
    expect(await store.inflight('key-b')).toBe(2);
    await store.abandon('r2', 'key-b', 2);
    expect(await store.get('r2')).toBeUndefined();
    expect(await store.inflight('key-b')).toBe(0);
  });

  it('drops entries whose record is gone, and entries that have lapsed', async () => {
    await store.create('r3', 'key-c', [{ filename: 'a.png', jobId: 'r3-0' }]);
    await store.create('r4', 'key-c', [{ filename: 'b.png', jobId: 'r4-0' }]);
    await store.create('r5', 'key-c', [{ filename: 'c.png', jobId: 'r5-0' }]);
    expect(await store.inflight('key-c')).toBe(3);
    // A record that is gone (expired, or an undo that removed it while the count was elsewhere):
    // only its in-flight entry is left.
    await redis.del(`${prefix}request:r3`);
    // An entry whose time is up (as if written a TTL ago).
    await redis.zadd(`${prefix}inflight-files:key-c`, Date.now() - 1, 'r4#0');
    expect(await store.inflight('key-c')).toBe(1);
    // Finishing the remaining file takes it out.
    await store.markFailed('r5', 0, 'no');
    expect(await store.inflight('key-c')).toBe(0);
  });
});
