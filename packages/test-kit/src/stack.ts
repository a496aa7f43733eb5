import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { freshQueueName } from './queue-names.js';
import { testRedisUrl } from './redis-url.js';

/** How to open a test stack. */
export interface TestStackOptions {
  /** Starts the queue name and the storage folder's name (`api-test`, `test-slack`). */
  prefix: string;
  /** A Redis of the test's own (an outage test kills it); the run's Redis otherwise. */
  redisUrl?: string;
  /** Settings on top of the stack's own (they win). */
  env?: NodeJS.ProcessEnv;
}

/**
 * One test file's share of the system: a fresh queue name, its own storage folder, and the
 * environment a worker, the API or a chat app reads to use them. What the test starts on it is
 * registered with `defer` and closed, last first, by `close`, which then obliterates the queues
 * and removes the folder.
 */
export interface TestStack {
  redisUrl: string;
  queueName: string;
  storageDir: string;
  env: NodeJS.ProcessEnv;
  /** Registers something to close with the stack (closed in reverse order). */
  defer(close: () => unknown): void;
  /** Adds a queue (by name, e.g. a delivery queue) for `close` to obliterate. */
  ownQueue(name: string): void;
  close(): Promise<void>;
}

/**
 * Opens a stack: a fresh queue name, a storage folder, and an environment with loopback health
 * ports, quiet logs and the run's Redis, on top of this process's environment.
 */
export async function openTestStack(options: TestStackOptions): Promise<TestStack> {
  const redisUrl = options.redisUrl ?? options.env?.REDIS_URL ?? testRedisUrl();
  const queueName = freshQueueName(options.prefix);
  const storageDir = await mkdtemp(join(tmpdir(), `bgremover-${options.prefix}-`));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    REDIS_URL: redisUrl,
    QUEUE_NAME: queueName,
    STORAGE_DIR: storageDir,
    HEALTH_PORT: '0',
    HEALTH_HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    ...options.env,
  };
  const closers: (() => unknown)[] = [];
  const queues = [queueName];
  return {
    redisUrl,
    queueName,
    storageDir,
    env,
    defer: (close) => closers.push(close),
    ownQueue: (name) => queues.push(name),
    close: async () => {
      const errors: unknown[] = [];
      // Each thing closes once, even when close is called twice.
      for (const close of closers.splice(0).reverse()) {
        await Promise.resolve()
          .then(close)
          .catch((error: unknown) => errors.push(error));
      }
      for (const name of queues) await obliterateQueue(redisUrl, name);
      await rm(storageDir, { recursive: true, force: true });
      if (errors.length > 0) throw errors[0];
    },
  };
}

/**
 * Removes a BullMQ queue and everything in it; gives up quietly after `timeoutMs` or when Redis
 * does not answer (a test that killed its Redis).
 */
export async function obliterateQueue(
  redisUrl: string,
  name: string,
  timeoutMs = 10_000,
): Promise<void> {
  const queue = new Queue(name, {
    connection: { url: redisUrl, maxRetriesPerRequest: 1, retryStrategy: () => null },
  });
  queue.on('error', () => undefined);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs);
  });
  await Promise.race([queue.obliterate({ force: true }).catch(() => undefined), timeout]);
  clearTimeout(timer);
  await queue.close().catch(() => undefined);
}
