import { freshQueueName, testRedisUrl } from '@bgremover/test-kit';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobsAheadOf } from '../src/index.js';

const REDIS_URL = testRedisUrl();
const name = freshQueueName('position');
let redis: Redis;
let queue: Queue;
let worker: Worker;

beforeAll(async () => {
  redis = new Redis(REDIS_URL);
  queue = new Queue(name, { connection: { url: REDIS_URL } });
  // Never started: the test takes jobs by hand with getNextJob.
  worker = new Worker(name, null, { connection: { url: REDIS_URL }, autorun: false });
});
afterAll(async () => {
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  await redis.quit();
});

describe('jobsAheadOf', () => {
  it('counts running jobs, then the wait list, then prioritized jobs by priority and arrival', async () => {
    await queue.add('x', {}, { jobId: 'plain-1' });
    await queue.add('x', {}, { jobId: 'plain-2' });
    await queue.add('x', {}, { jobId: 'video', priority: 20 });
    await queue.add('x', {}, { jobId: 'image-1', priority: 1 });
    await queue.add('x', {}, { jobId: 'image-2', priority: 1 });
    await queue.add('x', {}, { jobId: 'retrying', delay: 60_000 });

    expect(await jobsAheadOf(redis, queue, ['plain-1'])).toBe(0);
    expect(await jobsAheadOf(redis, queue, ['plain-2'])).toBe(1);
    expect(await jobsAheadOf(redis, queue, ['image-1'])).toBe(2);
    expect(await jobsAheadOf(redis, queue, ['image-2'])).toBe(3);
    expect(await jobsAheadOf(redis, queue, ['video'])).toBe(4);
    // Several files: the count for the first of them to run.
    expect(await jobsAheadOf(redis, queue, ['video', 'image-2'])).toBe(3);
    // A delayed job goes after everything already queued.
    expect(await jobsAheadOf(redis, queue, ['retrying'])).toBe(5);

    // A worker takes the first job: it is running, so it is ahead of everyone else still.
    const taken = await worker.getNextJob('test-token');
    expect(taken?.id).toBe('plain-1');
    expect(await jobsAheadOf(redis, queue, ['plain-1'])).toBeUndefined();
    expect(await jobsAheadOf(redis, queue, ['plain-2'])).toBe(1);
    expect(await jobsAheadOf(redis, queue, ['video'])).toBe(4);
    expect(await jobsAheadOf(redis, queue, ['unknown'])).toBeUndefined();
    expect(await jobsAheadOf(redis, queue, [])).toBeUndefined();
  });
});
