import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ApiRequestStore,
  type ConversionJobData,
  type ConversionJobResult,
  enqueueConversion,
  LocalStorage,
  openConversionQueue,
  redisConnection,
  safeFileName,
} from '@bgremover/jobs';
import { type Job, type Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const workerMain = fileURLToPath(new URL('../src/main.ts', import.meta.url));

/** Everything a test needs on the producer side of one fresh queue. */
export interface TestQueue {
  name: string;
  storageDir: string;
  storage: LocalStorage;
  queue: Queue<ConversionJobData, ConversionJobResult>;
  events: QueueEvents;
  requests: ApiRequestStore;
  /** A plain connection, for looking at what the worker wrote. */
  redis: Redis;
  /** Environment for a worker on this queue (in-process via loadWorkerConfig, or a child). */
  env: NodeJS.ProcessEnv;
  close(): Promise<void>;
}

/** Creates a fresh, uniquely named queue with its own storage folder. */
export async function freshQueue(extraEnv: NodeJS.ProcessEnv = {}): Promise<TestQueue> {
  const name = `test-${randomUUID().slice(0, 8)}`;
  const storageDir = await mkdtemp(join(tmpdir(), 'bgremover-worker-test-'));
  // A test may bring its own Redis (an outage test kills it); both sides then use that one.
  const redisUrl = extraEnv.REDIS_URL ?? REDIS_URL;
  const queue = openConversionQueue(redisUrl, name);
  const events = new QueueEvents(name, { connection: redisConnection(redisUrl, 'worker') });
  await events.waitUntilReady();
  const redis = new Redis(redisUrl);
  // The test's own connections stay quiet through an outage a test causes on purpose.
  const ignore = () => undefined;
  queue.on('error', ignore);
  events.on('error', ignore);
  redis.on('error', ignore);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    REDIS_URL: redisUrl,
    QUEUE_NAME: name,
    STORAGE_DIR: storageDir,
    HEALTH_PORT: '0',
    HEALTH_HOST: '127.0.0.1',
    WORKER_LOCK_MS: '3000',
    WORKER_STALLED_INTERVAL_MS: '1000',
    ATTACHMENT_HOSTS: '127.0.0.1',
    // Test attachments are served from loopback over http: opt in explicitly.
    ALLOW_PRIVATE_FETCH_HOSTS: '127.0.0.1',
    LOG_LEVEL: 'warn',
    ...extraEnv,
  };
  return {
    name,
    storageDir,
    storage: new LocalStorage(storageDir),
    queue,
    events,
    requests: new ApiRequestStore(redis, 3600_000),
    redis,
    env,
    close: async () => {
      await queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close();
      await events.close();
      await redis.quit();
      await rm(storageDir, { recursive: true, force: true });
    },
  };
}

/**
 * Submits files the way the API does: stores each upload, records the request, and enqueues
 * one job per file with an api reply target. Returns the request id and job ids.
 */
export async function submitApiRequest(
  testQueue: TestQueue,
  files: { filename: string; bytes: Buffer }[],
  params: Record<string, unknown> = { convert_to: 'image-backgroundremover', model: 'u2netp' },
  options: { attempts?: number; backoffMs?: number } = {},
): Promise<{ requestId: string; jobIds: string[] }> {
  const requestId = randomUUID();
  const jobIds = files.map((_, index) => `${requestId}-${index}`);
  await testQueue.requests.create(
    requestId,
    'test-key',
    files.map((file, index) => ({ filename: file.filename, jobId: jobIds[index]! })),
  );
  for (const [index, file] of files.entries()) {
    const key = `inputs/${requestId}/${index}-${safeFileName(file.filename)}`;
    await testQueue.storage.put(key, file.bytes, 'application/octet-stream');
    await enqueueConversion(
      testQueue.queue,
      {
        version: 1,
        mediaKind: 'image',
        params,
        input: { kind: 'storage', key, filename: file.filename },
        target: { kind: 'api', requestId, fileIndex: index },
        requestedAt: Date.now(),
      },
      jobIds[index]!,
      options,
    );
  }
  return { requestId, jobIds };
}

/** A worker running as its own process (the real entry point), for crash and shutdown tests. */
export interface ChildWorker {
  child: ChildProcess;
  id: string;
  healthPort: number;
  exited: Promise<number | null>;
  output: () => string;
}

/** Starts `bgremover-worker` in a child process and waits until it says it is ready. */
export function spawnWorker(env: NodeJS.ProcessEnv, id: string): Promise<ChildWorker> {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', workerMain], {
    env: { ...env, WORKER_ID: id, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`worker ${id} did not start:\n${output}`)),
      60_000,
    );
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const ready =
        /"healthPort":(\d+).*"msg":"worker ready"|"msg":"worker ready".*"healthPort":(\d+)/.exec(
          output,
        );
      if (ready) {
        clearTimeout(timer);
        resolve({
          child,
          id,
          healthPort: Number(ready[1] ?? ready[2]),
          exited,
          output: () => output,
        });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`worker ${id} exited with ${code} before it was ready:\n${output}`));
    });
  });
}

/** Waits until `predicate` holds, polling. */
export async function waitFor<T>(
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 60_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * A job once BullMQ has recorded its completion. The worker marks the request's file done just
 * before that, so a test that saw the request finish must wait for this to read the result.
 */
export async function completedJob(
  testQueue: TestQueue,
  jobId: string,
): Promise<Job<ConversionJobData, ConversionJobResult>> {
  return waitFor(async () => {
    const job = await testQueue.queue.getJob(jobId);
    return job?.finishedOn && job.returnvalue ? job : undefined;
  }, 30_000);
}
