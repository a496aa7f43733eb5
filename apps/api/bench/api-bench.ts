/**
 * API benchmark (not a test). Starts the API in its own process (no worker: the model step is
 * excluded, jobs just queue) and drives it over loopback from this process:
 * - `/v1/convert/` with 1 MB uploads: the saturation rate (8 clients back to back), then p50/p99
 *   latency at a steady 10 uploads per second (open loop);
 * - `/v1/results/` p50/p99 under 50 concurrent pollers, each polling once a second like the
 *   seed's Node client (and, for reference, the same 50 polling back to back).
 *
 *   npm run bench --workspace @bgremover/api
 */
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const CONVERT_REQUESTS = Number(process.env.BENCH_CONVERTS ?? 300);
const CONVERT_CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const POLLERS = 50;
const POLLS_EACH = 40;

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

const storageDir = await mkdtemp(join(tmpdir(), 'bgremover-api-bench-'));
const queueName = `api-bench-${randomUUID().slice(0, 8)}`;
const env = {
  ...process.env,
  REDIS_URL,
  QUEUE_NAME: queueName,
  STORAGE_DIR: storageDir,
  API_KEYS: 'bench=bench-key',
  API_HOST: '127.0.0.1',
  API_PORT: '0',
  RATE_LIMIT_PER_MINUTE: '1000000',
  MAX_FILES_IN_FLIGHT_PER_KEY: '1000000',
  LOG_LEVEL: 'info',
};
const server = spawn(
  process.execPath,
  [
    '--conditions=source',
    '--import',
    'tsx',
    fileURLToPath(new URL('../src/main.ts', import.meta.url)),
  ],
  { env, stdio: ['ignore', 'pipe', 'inherit'] },
);
const baseUrl = await new Promise<string>((resolve) => {
  let output = '';
  server.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    const match = /"address":"(http:\/\/[^"]+)"/.exec(output);
    if (match?.[1]) resolve(match[1]);
  });
});

// A 1 MB upload: a real PNG header chunk, then noise in one IDAT chunk.
const png = await readFile(
  fileURLToPath(new URL('../../../fixtures/images/coffee.png', import.meta.url)),
);
const idat = Buffer.alloc(8);
idat.writeUInt32BE(1024 * 1024 - 41, 0);
idat.write('IDAT', 4, 'latin1');
const upload = Buffer.concat([png.subarray(0, 33), idat, randomBytes(1024 * 1024 - 41)]);

/** The server's own time for a request, from its Server-Timing header. */
function serverMs(response: Response): number {
  return Number(/dur=([0-9.]+)/.exec(response.headers.get('server-timing') ?? '')?.[1]);
}

function describeLatency(client: number[], server: number[]): string {
  return `p50 ${percentile(client, 50).toFixed(1)} ms, p99 ${percentile(client, 99).toFixed(1)} ms (server's own time: p50 ${percentile(server, 50).toFixed(1)} ms, p99 ${percentile(server, 99).toFixed(1)} ms)`;
}

async function convertOnce(): Promise<{ ms: number; serverMs: number; uuid: string }> {
  const form = new FormData();
  form.append('convert_to', 'image-backgroundremover');
  form.append('files', new Blob([upload]), 'upload.png');
  const start = performance.now();
  const response = await fetch(`${baseUrl}/v1/convert/`, {
    method: 'POST',
    body: form,
    headers: { authorization: 'bench-key' },
  });
  const body = (await response.json()) as { uuid?: string; error?: string };
  if (!body.uuid) throw new Error(`convert failed: ${JSON.stringify(body)}`);
  return { ms: performance.now() - start, serverMs: serverMs(response), uuid: body.uuid };
}

for (let i = 0; i < 20; i++) await convertOnce(); // warm-up
const convertTimes: number[] = [];
let issued = 0;
const convertStart = performance.now();
await Promise.all(
  Array.from({ length: CONVERT_CONCURRENCY }, async () => {
    while (issued < CONVERT_REQUESTS) {
      issued++;
      convertTimes.push((await convertOnce()).ms);
    }
  }),
);
const convertSeconds = (performance.now() - convertStart) / 1000;
console.log(
  `/v1/convert/ (1 MB uploads, ${CONVERT_CONCURRENCY} clients back to back, ${CONVERT_REQUESTS} requests): ${(CONVERT_REQUESTS / convertSeconds).toFixed(1)} req/s, p50 ${percentile(convertTimes, 50).toFixed(1)} ms, p99 ${percentile(convertTimes, 99).toFixed(1)} ms`,
);

// Latency at a steady arrival rate: one upload every 100 ms for 15 s, whatever the answers do.
const steadyTimes: number[] = [];
const steadyServerTimes: number[] = [];
await Promise.all(
  Array.from({ length: 150 }, async (_, index) => {
    await new Promise((resolve) => setTimeout(resolve, index * 100));
    const { ms, serverMs } = await convertOnce();
    steadyTimes.push(ms);
    steadyServerTimes.push(serverMs);
  }),
);
console.log(
  `/v1/convert/ (1 MB uploads at a steady 10/s, 150 requests): ${describeLatency(steadyTimes, steadyServerTimes)}`,
);

const { uuid } = await convertOnce();
const pacedTimes: number[] = [];
const pacedServerTimes: number[] = [];
await Promise.all(
  Array.from({ length: POLLERS }, async (_, poller) => {
    await new Promise((resolve) => setTimeout(resolve, (poller * 1000) / POLLERS));
    for (let i = 0; i < 20; i++) {
      const start = performance.now();
      const response = await fetch(`${baseUrl}/v1/results/`, {
        method: 'POST',
        body: new URLSearchParams({ uuid }),
      });
      await response.json();
      pacedTimes.push(performance.now() - start);
      pacedServerTimes.push(serverMs(response));
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }),
);
console.log(
  `/v1/results/ (${POLLERS} pollers polling every second, ${POLLERS * 20} polls): ${describeLatency(pacedTimes, pacedServerTimes)}`,
);
const pollTimes: number[] = [];
await Promise.all(
  Array.from({ length: POLLERS }, async () => {
    for (let i = 0; i < POLLS_EACH; i++) {
      const start = performance.now();
      const response = await fetch(`${baseUrl}/v1/results/`, {
        method: 'POST',
        body: new URLSearchParams({ uuid }),
      });
      await response.json();
      pollTimes.push(performance.now() - start);
    }
  }),
);
console.log(
  `/v1/results/ (${POLLERS} pollers back to back, ${POLLERS * POLLS_EACH} polls): p50 ${percentile(pollTimes, 50).toFixed(1)} ms, p99 ${percentile(pollTimes, 99).toFixed(1)} ms`,
);
console.log('targets: convert p99 <= 50 ms; results p99 <= 10 ms');

server.kill('SIGTERM');
const queue = new Queue(queueName, { connection: { url: REDIS_URL } });
await queue.obliterate({ force: true });
await queue.close();
await rm(storageDir, { recursive: true, force: true });
process.exit(0);
