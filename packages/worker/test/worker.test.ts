import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appKey, type ConversionJobData, enqueueConversion } from '@bgremover/jobs';
import { waitFor } from '@bgremover/test-kit';
import { makeLavfiClip } from '@bgremover/test-kit/lavfi-clip';
// @ts-expect-error s3rver ships no types
import S3rver from 's3rver';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { loadWorkerConfig } from '../src/config.js';
import { type RunningWorker, startConversionWorker } from '../src/worker.js';
import { expectOpaqueCentre, smallPhoto } from './fixtures.js';
import { freshQueue, submitApiRequest, type TestQueue } from './harness.js';

const run = randomUUID().slice(0, 8);
let testQueue: TestQueue | undefined;
let running: RunningWorker | undefined;
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  await running?.close();
  running = undefined;
  await testQueue?.close();
  testQueue = undefined;
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function startWorker(extraEnv: NodeJS.ProcessEnv = {}): Promise<TestQueue> {
  testQueue = await freshQueue(extraEnv);
  running = await startConversionWorker(loadWorkerConfig(testQueue.env));
  return testQueue;
}

/** Enqueues `input` as file 0 of the API request `requestId`, as job `jobId`; returns the job. */
async function enqueueFile(
  q: TestQueue,
  { jobId, requestId, input, mediaKind = 'image', params = {} }: FileJob,
  options?: Parameters<typeof enqueueConversion>[3],
) {
  await enqueueConversion(
    q.queue,
    {
      version: 1,
      mediaKind,
      params,
      input,
      target: { kind: 'api', requestId, fileIndex: 0 },
      requestedAt: Date.now(),
    },
    jobId,
    options,
  );
  return (await q.queue.getJob(jobId))!;
}

interface FileJob {
  jobId: string;
  requestId: string;
  input: ConversionJobData['input'];
  mediaKind?: ConversionJobData['mediaKind'];
  params?: ConversionJobData['params'];
}

describe('conversion worker (in-process, real Redis, real model)', () => {
  it('processes a job: result in storage, the api request marked started then done, progress seen', async () => {
    const q = await startWorker();
    const progress: unknown[] = [];
    q.events.on('progress', ({ data }) => progress.push(data));
    const { requestId, jobIds } = await submitApiRequest(q, [
      { filename: 'cup.png', bytes: await smallPhoto() },
    ]);
    const job = await q.queue.getJob(jobIds[0]!);
    const result = await job!.waitUntilFinished(q.events, 60_000);

    expect(result.resultKey).toBe(`results/${jobIds[0]}/cup_processed.png`);
    expect(result.model).toBe('u2netp');
    const stored = await q.storage.stat(result.resultKey);
    expect(stored?.contentType).toBe('image/png');
    const png = await sharp(join(q.storageDir, result.resultKey)).metadata();
    expect([png.format, png.width, png.channels]).toEqual(['png', 160, 4]);

    const record = await q.requests.get(requestId);
    expect(record?.finished).toBe(true);
    expect(record?.files[0]).toMatchObject({
      state: 'done',
      resultKey: result.resultKey,
      resultFilename: 'cup_processed.png',
    });
    // The api adapter marked the file started when the job began (what lets /v1/results/
    // report nothing ahead without asking the queue).
    await waitFor(
      async () =>
        (await q.redis.hget(appKey(q.name, 'request', requestId), 'started:0')) ?? undefined,
      5_000,
    );
    await waitFor(async () => progress.length >= 3);
    expect(progress).toContainEqual({ stage: 'processing', percent: 5 });
    expect(progress).toContainEqual({ stage: 'delivering', percent: 98 });
  });

  it('processes a video job, reporting frames done as progress', async () => {
    const q = await startWorker();
    const clip = join(q.storageDir, 'clip.mp4');
    await makeLavfiClip(clip, { video: 'testsrc2=size=160x120:rate=10:duration=1' });
    await q.storage.putFile('inputs/vid/0-clip.mp4', clip, 'video/mp4');
    await q.requests.create(`vid-${run}`, 'k', [
      { filename: 'clip.mp4', jobId: `video-job-${run}` },
    ]);
    const frames: number[] = [];
    q.events.on('progress', ({ data }) => {
      const done = (data as { framesDone?: number }).framesDone;
      if (done !== undefined) frames.push(done);
    });
    const job = await enqueueFile(q, {
      jobId: `video-job-${run}`,
      requestId: `vid-${run}`,
      input: { kind: 'storage', key: 'inputs/vid/0-clip.mp4', filename: 'clip.mp4' },
      mediaKind: 'video',
      params: { video_format: 'webm', model: 'u2netp' },
    });
    const result = await job.waitUntilFinished(q.events, 120_000);
    expect(result).toMatchObject({ filename: 'clip_processed.webm', contentType: 'video/webm' });
    expect((await q.storage.stat(result.resultKey))?.size).toBe(result.bytes);
    await waitFor(async () => frames.includes(10));
  });

  it('fails bad input once, with its message, without retrying', async () => {
    const q = await startWorker();
    const { requestId, jobIds } = await submitApiRequest(q, [
      { filename: 'notes.png', bytes: Buffer.from('this is text, not a picture') },
    ]);
    const job = await q.queue.getJob(jobIds[0]!);
    await expect(job!.waitUntilFinished(q.events, 60_000)).rejects.toThrow(/not an image/);
    const failed = await q.queue.getJob(jobIds[0]!);
    expect(failed?.attemptsMade).toBe(1);
    expect(failed?.failedReason).toContain('The file is not an image');
    const record = await q.requests.get(requestId);
    expect(record?.files[0]).toMatchObject({
      state: 'failed',
      error: expect.stringContaining('not an image'),
    });
  });

  it('stores results of everyday file names under safe keys, keeping the name people see', async () => {
    const q = await startWorker();
    const names = ['my photo (1).png', 'фото.png', 'q"x;y=z.png'];
    const bytes = await smallPhoto();
    const { requestId, jobIds } = await submitApiRequest(
      q,
      names.map((filename) => ({ filename, bytes })),
      { convert_to: 'image-backgroundremover', model: 'u2netp' },
      { attempts: 3 },
    );
    const record = await waitFor(async () => {
      const current = await q.requests.get(requestId);
      return current?.finished ? current : undefined;
    }, 90_000);
    expect(record.files.map((file) => file.state)).toEqual(['done', 'done', 'done']);
    expect(record.files.map((file) => file.state === 'done' && file.resultFilename)).toEqual([
      'my photo (1)_processed.png',
      'фото_processed.png',
      'q"x;y=z_processed.png',
    ]);
    for (const [index, file] of record.files.entries()) {
      if (file.state !== 'done') continue;
      expect(file.resultKey).toMatch(/^results\/[^/]+\/[A-Za-z0-9._-]+$/);
      const stored = await q.storage.stat(file.resultKey);
      expect(stored?.downloadName).toBe(file.resultFilename);
      const job = await q.queue.getJob(jobIds[index]!);
      expect(job?.attemptsMade).toBe(1);
      await expectOpaqueCentre(join(q.storageDir, file.resultKey));
    }
  });

  it('fails a storage fault that retrying cannot cure once, naming no path', async () => {
    const q = await startWorker();
    // A file where the results folder should be: every store fails with ENOTDIR.
    await writeFile(join(q.storageDir, 'results'), 'not a folder');
    const { requestId, jobIds } = await submitApiRequest(
      q,
      [{ filename: 'cup.png', bytes: await smallPhoto() }],
      { convert_to: 'image-backgroundremover', model: 'u2netp' },
      { attempts: 3, backoffMs: 10 },
    );
    const job = await q.queue.getJob(jobIds[0]!);
    await expect(job!.waitUntilFinished(q.events, 60_000)).rejects.toThrow(/Storing the result/);
    const failed = await q.queue.getJob(jobIds[0]!);
    expect(failed?.attemptsMade).toBe(1);
    const record = await q.requests.get(requestId);
    const error = record?.files[0]?.state === 'failed' ? record.files[0].error : '';
    expect(error).toMatch(
      /^Storing the result failed: storage is misconfigured \(a file where a folder should be\) \((ENOTDIR|EEXIST)\); it has been logged$/,
    );
    expect(error).not.toContain(q.storageDir);
    expect(error).not.toContain(String(process.pid));
  });

  it('keeps finished jobs (and the file names in them) only as long as results', async () => {
    // RESULT_TTL_HOURS=0.0005 is 1.8 s.
    const q = await startWorker({ RESULT_TTL_HOURS: '0.0005' });
    const bytes = await smallPhoto();
    const first = await submitApiRequest(q, [{ filename: 'first.png', bytes }]);
    await (await q.queue.getJob(first.jobIds[0]!))!.waitUntilFinished(q.events, 60_000);
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    // BullMQ trims by age when the next job finishes.
    const second = await submitApiRequest(q, [{ filename: 'second.png', bytes }]);
    await (await q.queue.getJob(second.jobIds[0]!))!.waitUntilFinished(q.events, 60_000);
    expect(await q.queue.getJob(first.jobIds[0]!)).toBeUndefined();
    expect(await q.queue.getJob(second.jobIds[0]!)).toBeDefined();
  });

  it('finishes the good files of a batch when one is bad', async () => {
    const q = await startWorker();
    const { requestId } = await submitApiRequest(q, [
      { filename: 'a.png', bytes: await smallPhoto('coffee.png') },
      { filename: 'broken.jpg', bytes: Buffer.alloc(0) },
      { filename: 'c.png', bytes: await smallPhoto('chelsea.png') },
    ]);
    const record = await waitFor(async () => {
      const current = await q.requests.get(requestId);
      return current?.finished ? current : undefined;
    });
    expect(record.files.map((file) => file.state)).toEqual(['done', 'failed', 'done']);
    expect(record.files[1]).toMatchObject({ error: 'The file is empty (0 bytes)' });
  });

  it('retries a transient fetch failure and then succeeds', async () => {
    const photo = await smallPhoto();
    let requests = 0;
    const server = createHttpServer((_request, response) => {
      requests++;
      if (requests === 1) response.writeHead(503).end('busy');
      else response.writeHead(200, { 'content-type': 'image/png' }).end(photo);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => server.close(() => resolve())));
    const port = (server.address() as AddressInfo).port;

    const q = await startWorker();
    const requestId = `transient-request-${run}`;
    await q.requests.create(requestId, 'k', [
      { filename: 'remote.png', jobId: `transient-job-${run}` },
    ]);
    const job = await enqueueFile(
      q,
      {
        jobId: `transient-job-${run}`,
        requestId,
        input: { kind: 'url', url: `http://127.0.0.1:${port}/remote.png`, filename: 'remote.png' },
        params: { model: 'u2netp' },
      },
      { attempts: 3, backoffMs: 200 },
    );
    const result = await job.waitUntilFinished(q.events, 60_000);
    expect(result.filename).toBe('remote_processed.png');
    expect(requests).toBe(2);
    expect((await q.queue.getJob(`transient-job-${run}`))?.attemptsMade).toBe(2); // one failed, one succeeded
    expect((await q.requests.get(requestId))?.files[0]?.state).toBe('done');
  });

  it('refuses attachments from hosts that are not allowed', async () => {
    const q = await startWorker({ ATTACHMENT_HOSTS: 'cdn.discordapp.com' });
    await q.requests.create(`r-host-${run}`, 'k', [
      { filename: 'x.png', jobId: `host-job-${run}` },
    ]);
    const job = await enqueueFile(q, {
      jobId: `host-job-${run}`,
      requestId: `r-host-${run}`,
      input: { kind: 'url', url: 'http://127.0.0.1:9/x.png', filename: 'x.png' },
    });
    await expect(job.waitUntilFinished(q.events, 30_000)).rejects.toThrow(
      /only fetched from cdn.discordapp.com, not 127.0.0.1/,
    );
  });

  it('deduplicates jobs by id: the same event enqueued twice runs once', async () => {
    const q = await startWorker();
    const bytes = await smallPhoto();
    await q.storage.put('inputs/dup/0-a.png', bytes, 'image/png');
    const data = {
      version: 1 as const,
      mediaKind: 'image' as const,
      params: {},
      input: { kind: 'storage' as const, key: 'inputs/dup/0-a.png', filename: 'a.png' },
      target: { kind: 'api' as const, requestId: `dup-${run}`, fileIndex: 0 },
      requestedAt: Date.now(),
    };
    await q.requests.create(`dup-${run}`, 'k', [
      { filename: 'a.png', jobId: `slack_evt_1-${run}` },
    ]);
    const first = await enqueueConversion(q.queue, data, `slack:evt:1-${run}`);
    const second = await enqueueConversion(q.queue, data, `slack:evt:1-${run}`);
    expect(second).toBe(first);
    await (await q.queue.getJob(first))!.waitUntilFinished(q.events, 60_000);
    expect(await q.queue.getJobCounts('completed', 'waiting')).toEqual({
      completed: 1,
      waiting: 0,
    });
  });

  it('serves /healthz and /metrics with queue depth and job counts', async () => {
    const q = await startWorker();
    const { jobIds } = await submitApiRequest(q, [
      { filename: 'm.png', bytes: await smallPhoto() },
    ]);
    await (await q.queue.getJob(jobIds[0]!))!.waitUntilFinished(q.events, 60_000);
    const base = `http://127.0.0.1:${running!.healthPort}`;
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/bullmq_job_count\{queue="[^"]+", state="completed"\} 1/);
    expect(metrics).toMatch(/bgremover_jobs_completed_total\{worker="[^"]+"\} 1/);
    expect(metrics).toMatch(/bgremover_job_duration_seconds_count\{worker="[^"]+"\} 1/);
  });

  it('stores results in S3-compatible storage (s3rver stand-in)', async () => {
    const s3dir = await mkdtemp(join(tmpdir(), 'bgremover-s3-'));
    const server = new S3rver({
      port: 0,
      address: '127.0.0.1',
      silent: true,
      directory: s3dir,
      configureBuckets: [{ name: 'bgr' }],
    });
    const { port } = (await server.run()) as { port: number };
    cleanups.push(async () => {
      await server.close();
      await rm(s3dir, { recursive: true, force: true });
    });
    const q = await startWorker({
      STORAGE_DRIVER: 's3',
      S3_BUCKET: 'bgr',
      S3_ENDPOINT: `http://127.0.0.1:${port}`,
      S3_FORCE_PATH_STYLE: 'true',
      S3_ACCESS_KEY_ID: 'S3RVER',
      S3_SECRET_ACCESS_KEY: 'S3RVER',
    });
    // The producer side uploads to the same bucket.
    const { openStorage, loadJobsConfig } = await import('@bgremover/jobs');
    const s3 = openStorage(loadJobsConfig(q.env));
    await s3.put('inputs/s3req/0-cup.png', await smallPhoto(), 'image/png');
    await q.requests.create(`s3req-${run}`, 'k', [{ filename: 'cup.png', jobId: `s3-job-${run}` }]);
    const job = await enqueueFile(q, {
      jobId: `s3-job-${run}`,
      requestId: `s3req-${run}`,
      input: { kind: 'storage', key: 'inputs/s3req/0-cup.png', filename: 'cup.png' },
    });
    const result = await job.waitUntilFinished(q.events, 60_000);
    const stored = await s3.stat(result.resultKey);
    expect(stored?.contentType).toBe('image/png');
    expect(stored?.size).toBe(result.bytes);
  });
});
