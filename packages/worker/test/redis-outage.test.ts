/**
 * A worker through a Redis outage, against a redis-server of its own on a free port: /healthz
 * answers 503 at once instead of hanging, connection errors reach the logger (throttled) rather
 * than stderr as "Unhandled error event", and once Redis is back the worker reconnects within
 * seconds and runs new jobs.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { loadWorkerConfig } from '../src/config.js';
import { type RunningWorker, startConversionWorker } from '../src/worker.js';
import { smallPhoto } from './fixtures.js';
import { freshQueue, submitApiRequest, type TestQueue, waitFor } from './harness.js';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
  await waitFor(() => canConnect(port), 10_000);
  return child;
}

function canConnect(port: number): Promise<true | undefined> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.end();
      resolve(true);
    });
    socket.on('error', () => resolve(undefined));
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

let redis: ChildProcess | undefined;
let worker: RunningWorker | undefined;
let testQueue: TestQueue | undefined;

afterAll(async () => {
  await worker?.close().catch(() => undefined);
  await testQueue?.close().catch(() => undefined);
  if (redis) await stop(redis);
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
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}`;
    redis = await startRedis(port);
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

    await stop(redis);
    const down = await waitFor(async () => {
      const answer = await health(worker!.healthPort);
      return answer.status === 503 ? answer : undefined;
    }, 10_000);
    // Answered within the probe's one-second budget, not left hanging.
    expect(down.ms).toBeLessThan(3_000);
    await waitFor(async () => lines.some((line) => line.includes('Redis connection error')));

    redis = await startRedis(port);
    const backAt = Date.now();
    await waitFor(async () => (await health(worker!.healthPort)).status === 200, 15_000);
    const { requestId } = await submitApiRequest(testQueue, [
      { filename: 'after.png', bytes: await smallPhoto() },
    ]);
    const record = await waitFor(async () => {
      const current = await testQueue!.requests.get(requestId);
      return current?.finished ? current : undefined;
    }, 60_000);
    expect(record.files[0]?.state).toBe('done');
    // Reconnection took seconds, not BullMQ's default of up to 20 s.
    expect(Date.now() - backAt).toBeLessThan(15_000);
    // Throttled: a few lines for the whole outage, not one per retry.
    expect(lines.filter((line) => line.includes('Redis connection error')).length).toBeLessThan(20);
  });
});
