/**
 * Queue and worker benchmark (not a test). Prints:
 * - the queue's own overhead per job: a BullMQ worker whose processor does nothing, jobs added
 *   one after another, enqueue-to-start and enqueue-to-completed latency;
 * - images per second through the real worker (u2netp, 0.3 MP JPEGs, storage, api delivery) at
 *   concurrency 1 and 2, against the bare session.run rate measured in the same run.
 *
 *   npm run bench --workspace @bgremover/worker     (BENCH_JOBS=24 to change the batch)
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import {
  closeInferenceThread,
  loadCoreConfig,
  loadModel,
  removeImageBackground,
} from '@bgremover/core';
import {
  ApiRequestStore,
  enqueueConversion,
  LocalStorage,
  openConversionQueue,
  redisConnection,
} from '@bgremover/jobs';
import { ensureRedis } from '@bgremover/test-kit/redis';
import { Queue, QueueEvents, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { loadWorkerConfig } from '../src/config.js';
import { startConversionWorker } from '../src/worker.js';

// $REDIS_URL or the local Redis if one answers, else a redis-server of its own (stopped at the end).
const benchRedis = await ensureRedis();
const REDIS_URL = benchRedis.url;
const JOBS = Number(process.env.BENCH_JOBS ?? 24);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/** Median session.run time of u2netp at 320x320 with the given environment's settings. */
async function bareInferenceMs(env: NodeJS.ProcessEnv): Promise<number> {
  const model = await loadModel('u2netp', loadCoreConfig(env));
  const input = new ort.Tensor(
    'float32',
    new Float32Array(3 * 320 * 320).fill(0.1),
    [1, 3, 320, 320],
  );
  const times: number[] = [];
  for (let i = 0; i < 12; i++) {
    const start = performance.now();
    await model.session.run({ [model.inputName]: input }, [model.outputName]);
    if (i > 1) times.push(performance.now() - start);
  }
  return median(times);
}

async function queueOverhead(): Promise<{ toStart: number; toDone: number }> {
  const name = `bench-noop-${randomUUID().slice(0, 8)}`;
  const queue = new Queue(name, { connection: redisConnection(REDIS_URL, 'producer') });
  const events = new QueueEvents(name, { connection: redisConnection(REDIS_URL, 'worker') });
  await events.waitUntilReady();
  const startedAt = new Map<string, number>();
  const worker = new Worker(
    name,
    async (job) => {
      startedAt.set(job.id ?? '', performance.now());
    },
    { connection: redisConnection(REDIS_URL, 'worker') },
  );
  await worker.waitUntilReady();
  const toStart: number[] = [];
  const toDone: number[] = [];
  for (let i = 0; i < 200; i++) {
    const added = performance.now();
    // Kept until the queue is obliterated: a job removed on completion can vanish before
    // waitUntilFinished looks at it ("Missing key ... isFinished").
    const job = await queue.add('noop', { i });
    await job.waitUntilFinished(events);
    toDone.push(performance.now() - added);
    toStart.push((startedAt.get(job.id ?? '') ?? Number.NaN) - added);
  }
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  await events.close();
  return { toStart: median(toStart.slice(10)), toDone: median(toDone.slice(10)) };
}

async function throughput(
  concurrency: number,
  photo: Buffer,
  extraEnv: NodeJS.ProcessEnv = {},
): Promise<number> {
  const name = `bench-${randomUUID().slice(0, 8)}`;
  const storageDir = await mkdtemp(join(tmpdir(), 'bgremover-bench-'));
  const env = {
    ...process.env,
    REDIS_URL,
    QUEUE_NAME: name,
    STORAGE_DIR: storageDir,
    WORKER_CONCURRENCY: String(concurrency),
    HEALTH_PORT: '0',
    LOG_LEVEL: 'warn',
    ...extraEnv,
  };
  const running = await startConversionWorker(loadWorkerConfig(env));
  const queue = openConversionQueue(REDIS_URL, name);
  const storage = new LocalStorage(storageDir);
  const redis = new Redis(REDIS_URL);
  const requests = new ApiRequestStore(redis, 3600_000, name);
  const requestId = randomUUID();
  await storage.put(`inputs/${requestId}/photo.jpg`, photo, 'image/jpeg');
  // Warm the pipeline (the inference thread and its model, with this run's settings) before timing.
  await removeImageBackground(photo, { model: 'u2netp' }, { config: loadCoreConfig(env) });
  await requests.create(
    requestId,
    'bench',
    Array.from({ length: JOBS }, (_, index) => ({
      filename: `p${index}.jpg`,
      jobId: `${requestId}-${index}`,
    })),
  );
  const start = performance.now();
  for (let index = 0; index < JOBS; index++) {
    await enqueueConversion(
      queue,
      {
        version: 1,
        mediaKind: 'image',
        params: { model: 'u2netp' },
        input: { kind: 'storage', key: `inputs/${requestId}/photo.jpg`, filename: `p${index}.jpg` },
        target: { kind: 'api', requestId, fileIndex: index },
        requestedAt: Date.now(),
      },
      `${requestId}-${index}`,
    );
  }
  for (;;) {
    const record = await requests.get(requestId);
    if (record?.finished) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const seconds = (performance.now() - start) / 1000;
  await running.close(); // also releases the model, so the next run loads its own settings
  await closeInferenceThread();
  await queue.obliterate({ force: true });
  await queue.close();
  await redis.quit();
  await rm(storageDir, { recursive: true, force: true });
  return JOBS / seconds;
}

const photo = await sharp(
  fileURLToPath(new URL('../../../fixtures/images/astronaut.png', import.meta.url)),
)
  .resize(640, 480, { fit: 'cover' })
  .jpeg({ quality: 90 })
  .toBuffer();
function threadEnv(threads: string | undefined): NodeJS.ProcessEnv {
  return threads ? { ...process.env, ORT_INTRA_OP_THREADS: threads } : process.env;
}

const overhead = await queueOverhead();
console.log(
  `queue overhead (no-op processor, 190 jobs, medians): enqueue->start ${overhead.toStart.toFixed(2)} ms, enqueue->completed seen ${overhead.toDone.toFixed(2)} ms`,
);
// Each configuration is compared with the bare rate of a session with the same onnxruntime
// threads, measured before and after the worker runs (averaged): the default (one thread per
// core) and one thread, which leaves a core to the rest of the pipeline.
const configurations: [string, number, NodeJS.ProcessEnv][] = [
  ['concurrency 1', 1, {}],
  ['concurrency 2', 2, {}],
  ['concurrency 2, ORT_INTRA_OP_THREADS=1', 2, { ORT_INTRA_OP_THREADS: '1' }],
];
const threadSettings = [...new Set(configurations.map(([, , env]) => env.ORT_INTRA_OP_THREADS))];
const bareBefore = new Map<string | undefined, number>();
for (const threads of threadSettings) {
  bareBefore.set(threads, await bareInferenceMs(threadEnv(threads)));
}
const rates: [string, number, string | undefined][] = [];
for (const [label, concurrency, env] of configurations) {
  rates.push([label, await throughput(concurrency, photo, env), env.ORT_INTRA_OP_THREADS]);
}
const bareRates = new Map<string | undefined, number>();
for (const threads of threadSettings) {
  const bare =
    ((bareBefore.get(threads) ?? Number.NaN) + (await bareInferenceMs(threadEnv(threads)))) / 2;
  bareRates.set(threads, 1000 / bare);
  console.log(
    `bare session.run (u2netp 320x320, ${threads ? `${threads} intra-op thread` : 'default threads'}): ${bare.toFixed(1)} ms -> ${(1000 / bare).toFixed(2)} inferences/s`,
  );
}
const bestBare = Math.max(...bareRates.values());
for (const [label, rate, threads] of rates) {
  const own = bareRates.get(threads) ?? Number.NaN;
  console.log(
    `worker ${label}: ${rate.toFixed(2)} images/s (${JOBS} x 0.3 MP JPEG) = ${(rate / own).toFixed(2)}x the bare rate with the same threads, ${(rate / bestBare).toFixed(2)}x the best bare rate`,
  );
}
console.log(`peak RSS: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
console.log('targets: queue overhead <= 10 ms per job; best throughput >= 0.9x bare');
await benchRedis.stop();
process.exit(0);
