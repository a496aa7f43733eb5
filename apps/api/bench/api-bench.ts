/**
 * API benchmark (not a test). Starts the API in its own process (no worker: the model step is
 * excluded, jobs just queue) and drives it over loopback from this process:
 * - `/v1/convert/` with 1 MB uploads: the saturation rate (8 clients back to back), then p50/p99
 *   latency at a steady 10 uploads per second (open loop) for a minute;
 * - `/v1/results/` p50/p99 under 50 concurrent pollers, each polling once a second like the
 *   seed's Node client (and, for reference, the same 50 polling back to back);
 * - `GET /` (the web page, served from memory) from 50 clients back to back, plain and
 *   revalidated with its ETag.
 *
 * The client sends bodies encoded once, with a Content-Length, as curl and Python's requests do
 * (see http-client.ts), so the figures are the server's and the loopback's, not the client's.
 * For comparison it also times the same uploads through Node's fetch with a FormData, which
 * encodes the form while sending it.
 *
 *   npm run bench --workspace @bgremover/api
 */
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ensureRedis } from '@bgremover/test-kit/redis';
import { Queue } from 'bullmq';
import {
  BenchClient,
  encodeForm,
  encodeMultipart,
  serverTimingMs,
  type TimedResponse,
} from './http-client.js';

// $REDIS_URL or the local Redis if one answers, else a redis-server of its own (stopped at the end).
const benchRedis = await ensureRedis();
const REDIS_URL = benchRedis.url;
const CONVERT_REQUESTS = Number(process.env.BENCH_CONVERTS ?? 300);
const CONVERT_CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const STEADY_SECONDS = Number(process.env.BENCH_STEADY_SECONDS ?? 60);
const POLLERS = 50;
const POLL_SECONDS = 30;
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
// The server's log: the first line with its address, and any error line (so a failing request
// says why); the rest is dropped.
const baseUrl = await new Promise<string>((resolve) => {
  createInterface({ input: server.stdout }).on('line', (line) => {
    const address = /"address":"(http:\/\/[^"]+)"/.exec(line)?.[1];
    if (address) resolve(address);
    else if (/"level":(50|60)/.test(line)) process.stderr.write(`api: ${line}\n`);
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

const client = new BenchClient(baseUrl);
const convertBody = encodeMultipart({ convert_to: 'image-backgroundremover' }, [
  { field: 'files', filename: 'upload.png', contentType: 'image/png', bytes: upload },
]);

function describeLatency(responses: TimedResponse[]): string {
  const client = responses.map((response) => response.clientMs);
  const server = responses.map((response) => response.serverMs);
  return `p50 ${percentile(client, 50).toFixed(1)} ms, p99 ${percentile(client, 99).toFixed(1)} ms (server's own time: p50 ${percentile(server, 50).toFixed(1)} ms, p99 ${percentile(server, 99).toFixed(1)} ms)`;
}

async function convertOnce(): Promise<TimedResponse & { uuid: string }> {
  const response = await client.post('/v1/convert/', convertBody, { authorization: 'bench-key' });
  const uuid = response.body.uuid;
  if (typeof uuid !== 'string') throw new Error(`convert failed: ${JSON.stringify(response.body)}`);
  return { ...response, uuid };
}

/** The same upload through fetch and FormData, which encode the form while sending it. */
async function convertWithFetch(): Promise<TimedResponse> {
  const form = new FormData();
  form.append('convert_to', 'image-backgroundremover');
  form.append('files', new Blob([upload]), 'upload.png');
  const start = performance.now();
  const response = await fetch(`${baseUrl}/v1/convert/`, {
    method: 'POST',
    body: form,
    headers: { authorization: 'bench-key' },
  });
  const body = (await response.json()) as Record<string, unknown>;
  if (typeof body.uuid !== 'string') throw new Error(`convert failed: ${JSON.stringify(body)}`);
  return {
    status: response.status,
    body,
    clientMs: performance.now() - start,
    serverMs: serverTimingMs(response.headers.get('server-timing')),
  };
}

/** Starts one request every `intervalMs`, whatever the answers do (an open loop). */
async function atSteadyRate(
  count: number,
  intervalMs: number,
  send: () => Promise<TimedResponse>,
): Promise<TimedResponse[]> {
  const responses: TimedResponse[] = [];
  await Promise.all(
    Array.from({ length: count }, async (_, index) => {
      await new Promise((resolve) => setTimeout(resolve, index * intervalMs));
      responses.push(await send());
    }),
  );
  return responses;
}

for (let i = 0; i < 20; i++) {
  await convertOnce(); // warm-up
  await convertWithFetch();
}
const convertTimes: number[] = [];
let issued = 0;
const convertStart = performance.now();
await Promise.all(
  Array.from({ length: CONVERT_CONCURRENCY }, async () => {
    while (issued < CONVERT_REQUESTS) {
      issued++;
      convertTimes.push((await convertOnce()).clientMs);
    }
  }),
);
const convertSeconds = (performance.now() - convertStart) / 1000;
console.log(
  `/v1/convert/ (1 MB uploads, ${CONVERT_CONCURRENCY} clients back to back, ${CONVERT_REQUESTS} requests): ${(CONVERT_REQUESTS / convertSeconds).toFixed(1)} req/s, p50 ${percentile(convertTimes, 50).toFixed(1)} ms, p99 ${percentile(convertTimes, 99).toFixed(1)} ms`,
);

const steady = await atSteadyRate(STEADY_SECONDS * 10, 100, convertOnce);
const convertP99 = percentile(
  steady.map((response) => response.clientMs),
  99,
);
console.log(
  `/v1/convert/ (1 MB uploads at a steady 10/s, ${steady.length} requests): ${describeLatency(steady)}`,
);
const viaFetch = await atSteadyRate(150, 100, convertWithFetch);
console.log(
  `  for comparison, the same through fetch + FormData (${viaFetch.length} requests): ${describeLatency(viaFetch)}`,
);

const { uuid } = await convertOnce();
const pollBody = encodeForm({ uuid });
const paced: TimedResponse[] = [];
await Promise.all(
  Array.from({ length: POLLERS }, async (_, poller) => {
    await new Promise((resolve) => setTimeout(resolve, (poller * 1000) / POLLERS));
    for (let i = 0; i < POLL_SECONDS; i++) {
      const response = await client.post('/v1/results/', pollBody);
      if (response.status !== 200) throw new Error(`results: ${JSON.stringify(response.body)}`);
      paced.push(response);
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }),
);
const resultsP99 = percentile(
  paced.map((response) => response.clientMs),
  99,
);
console.log(
  `/v1/results/ (${POLLERS} pollers polling every second, ${paced.length} polls): ${describeLatency(paced)}`,
);
const pollTimes: number[] = [];
const pollStart = performance.now();
await Promise.all(
  Array.from({ length: POLLERS }, async () => {
    for (let i = 0; i < POLLS_EACH; i++) {
      pollTimes.push((await client.post('/v1/results/', pollBody)).clientMs);
    }
  }),
);
const pollSeconds = (performance.now() - pollStart) / 1000;
console.log(
  `/v1/results/ (${POLLERS} pollers back to back, ${pollTimes.length} polls): ${(pollTimes.length / pollSeconds).toFixed(0)} polls/s, p50 ${percentile(pollTimes, 50).toFixed(1)} ms, p99 ${percentile(pollTimes, 99).toFixed(1)} ms`,
);
// The web page: GET / from memory, then the same revalidated with its ETag (a 304), as browsers do.
const page = await client.get('/');
if (page.status !== 200) throw new Error(`GET / answered ${page.status}: is the API built?`);
for (const [label, headers, expected] of [
  ['GET / (the web page)', {}, 200],
  ['GET / revalidated (If-None-Match)', { 'if-none-match': page.etag }, 304],
] as const) {
  const times: TimedResponse[] = [];
  const start = performance.now();
  await Promise.all(
    Array.from({ length: POLLERS }, async () => {
      for (let i = 0; i < POLLS_EACH; i++) {
        const response = await client.get('/', headers);
        if (response.status !== expected) throw new Error(`${label}: ${response.status}`);
        times.push(response);
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  console.log(
    `${label} (${POLLERS} clients back to back, ${times.length} requests): ${(times.length / seconds).toFixed(0)} req/s, ${describeLatency(times)}`,
  );
}
const verdict = (value: number, target: number) =>
  `${value.toFixed(1)} ms against <= ${target} ms: ${value <= target ? 'met' : 'NOT met'}`;
console.log(`target, convert p99 at 10/s: ${verdict(convertP99, 50)}`);
console.log(`target, results p99 under ${POLLERS} pollers: ${verdict(resultsP99, 10)}`);
client.close();

server.kill('SIGTERM');
const queue = new Queue(queueName, { connection: { url: REDIS_URL } });
await queue.obliterate({ force: true });
await queue.close();
await rm(storageDir, { recursive: true, force: true });
await benchRedis.stop();
process.exit(0);
