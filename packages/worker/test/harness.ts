import { randomUUID } from 'node:crypto';
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
import {
  openTestStack,
  spawnWorkerProcess,
  type WorkerProcess,
  waitFor,
} from '@bgremover/test-kit';
import { type Job, type Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';

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

/**
 * Creates a fresh, uniquely named queue with its own storage folder (the kit's test stack), on
 * the run's Redis or, when `extraEnv` names one, a test's own (an outage test kills it).
 */
export async function freshQueue(extraEnv: NodeJS.ProcessEnv = {}): Promise<TestQueue> {
  const stack = await openTestStack({
    prefix: 'test',
    env: {
      WORKER_LOCK_MS: '3000',
      WORKER_STALLED_INTERVAL_MS: '1000',
      ATTACHMENT_HOSTS: '127.0.0.1',
      // Test attachments are served from loopback over http: opt in explicitly.
      ALLOW_PRIVATE_FETCH_HOSTS: '127.0.0.1',
      ...extraEnv,
    },
  });
  const { redisUrl, queueName: name, storageDir } = stack;
  const queue = openConversionQueue(redisUrl, name);
  const events = new QueueEvents(name, { connection: redisConnection(redisUrl, 'worker') });
  await events.waitUntilReady();
  const redis = new Redis(redisUrl);
  // The test's own connections stay quiet through an outage a test causes on purpose.
  const ignore = () => undefined;
  queue.on('error', ignore);
  events.on('error', ignore);
  redis.on('error', ignore);
  stack.defer(() => redis.quit());
  stack.defer(() => events.close());
  stack.defer(() => queue.close());
  return {
    name,
    storageDir,
    storage: new LocalStorage(storageDir),
    queue,
    events,
    requests: new ApiRequestStore(redis, 3600_000, name),
    redis,
    env: stack.env,
    close: () => stack.close(),
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
export type ChildWorker = WorkerProcess;

/** Starts `bgremover-worker` in a child process; resolves once it reports ready over IPC. */
export function spawnWorker(env: NodeJS.ProcessEnv, id: string): Promise<ChildWorker> {
  return spawnWorkerProcess(workerMain, env, id, 60_000);
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
