/**
 * A worker through a Redis outage, against a redis-server of its own on a free port: /healthz
 * answers 503 at once instead of hanging, connection errors reach the logger (throttled) rather
 * than stderr as "Unhandled error event", and once Redis is back the worker reconnects within
 * seconds and runs new jobs.
 */
import { Writable } from 'node:stream';
import { waitFor } from '@bgremover/test-kit';
import { TestRedisServer } from '@bgremover/test-kit/redis-server';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { loadWorkerConfig } from '../src/config.js';
import { type RunningWorker, startConversionWorker } from '../src/worker.js';
import { smallPhoto } from './fixtures.js';
import { freshQueue, submitApiRequest, type TestQueue } from './harness.js';

let redis: TestRedisServer | undefined;
let worker: RunningWorker | undefined;
let testQueue: TestQueue | undefined;

afterAll(async () => {
  await worker?.close().catch(() => undefined);
  await testQueue?.close().catch(() => undefined);
  await redis?.kill();
});

async function health(port: number): Promise<{ status: number; ms: number }> {
  const started = Date.now();
  const response = await fetch(`http://127.0.0.1:${port}/healthz`, {
    signal: AbortSignal.timeout(10_000),
  });
  return { status: response.status, ms: Date.now() - started };
}

describe('a worker through a Redis outage', () => {
  it('answers /healthz 503 while Redis is down, logs the errors, and runs jobs once it is back', async () => {
    redis = await TestRedisServer.start();
    const url = redis.url;
    testQueue = await freshQueue({ REDIS_URL: url });
    const lines: string[] = [];
    const logger = pino(
      { level: 'warn' },
      new Writable({
        write(chunk, _encoding, callback) {
          lines.push(String(chunk));
          callback();
        },
      }),
    );
    worker = await startConversionWorker(loadWorkerConfig(testQueue.env), { logger });
    expect((await health(worker.healthPort)).status).toBe(200);

    await redis.kill();
    const down = await waitFor(async () => {
      const answer = await health(worker!.healthPort);
      return answer.status === 503 ? answer : undefined;
    }, 10_000);
    // Answered within the probe's one-second budget, not left hanging.
    expect(down.ms).toBeLessThan(3_000);
    await waitFor(async () => lines.some((line) => line.includes('Redis connection error')));

    await redis.start();
    const backAt = Date.now();
    await waitFor(async () => (await health(worker!.healthPort)).status === 200, 15_000);
    const { requestId } = await submitApiRequest(testQueue, [
      { filename: 'after.png', bytes: await smallPhoto() },
    ]);
    const record = await waitFor(async () => {
      const current = await testQueue!.requests.get(requestId);
      return current?.finished ? current : undefined;
    }, 60_000);
    expect(record.files[0], JSON.stringify(record)).toMatchObject({ state: 'done' });
    // Reconnection took seconds, not BullMQ's default of up to 20 s.
    expect(Date.now() - backAt).toBeLessThan(15_000);
    // Throttled: a few lines for the whole outage, not one per retry.
    expect(lines.filter((line) => line.includes('Redis connection error')).length).toBeLessThan(20);
  });
});
