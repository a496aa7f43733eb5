import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { enqueueConversion } from '@bgremover/jobs';
import { makeLavfiClip } from '@bgremover/test-kit/lavfi-clip';
import { afterEach, describe, expect, it } from 'vitest';
import { loadWorkerConfig } from '../src/config.js';
import { type RunningWorker, startConversionWorker } from '../src/worker.js';
import { freshQueue, type TestQueue } from './harness.js';

const run = randomUUID().slice(0, 8);
let testQueue: TestQueue | undefined;
let running: RunningWorker | undefined;

afterEach(async () => {
  await running?.close();
  running = undefined;
  await testQueue?.close();
  testQueue = undefined;
});

/** ffmpeg processes started by this test process (the in-process worker's decoder and encoder). */
async function ffmpegChildren(): Promise<number> {
  const { stdout } = await promisify(execFile)('ps', ['-eo', 'ppid=,args=']);
  return stdout
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter(([ppid, command]) => Number(ppid) === process.pid && /ffmpeg$/.test(command ?? ''))
    .length;
}

async function videoJob(q: TestQueue, clip: string, params: Record<string, unknown>) {
  const key = `inputs/${run}/0-${clip.split('/').pop()}`;
  await q.storage.putFile(key, clip, 'video/mp4');
  const jobId = `deadline-${randomUUID().slice(0, 8)}`;
  await q.requests.create(jobId, 'k', [{ filename: 'clip.mp4', jobId }]);
  await enqueueConversion(
    q.queue,
    {
      version: 1,
      mediaKind: 'video',
      params: { video_format: 'webm', model: 'u2netp', ...params },
      input: { kind: 'storage', key, filename: 'clip.mp4' },
      target: { kind: 'api', requestId: jobId, fileIndex: 0 },
      requestedAt: Date.now(),
    },
    jobId,
  );
  return jobId;
}

describe('job deadline and video limits in the worker', () => {
  // 5900 frames: minutes of work on any machine, so the 15 s deadline (which also covers loading
  // the model, slow on a busy machine) always falls while ffmpeg is decoding and encoding.
  it('a video job past JOB_TIMEOUT_MS is stopped once, with its ffmpeg processes, and not retried', async () => {
    testQueue = await freshQueue({ JOB_TIMEOUT_MS: '15000' });
    const q = testQueue;
    running = await startConversionWorker(loadWorkerConfig(q.env));
    const clip = join(q.storageDir, 'long.mp4');
    await makeLavfiClip(clip, { video: 'testsrc2=size=160x120:rate=10:duration=590' });
    const jobId = await videoJob(q, clip, {});
    let mostFfmpeg = 0;
    const watching = setInterval(() => {
      ffmpegChildren().then(
        (count) => {
          mostFfmpeg = Math.max(mostFfmpeg, count);
        },
        () => undefined,
      );
    }, 200);
    try {
      const job = await q.queue.getJob(jobId);
      await expect(job!.waitUntilFinished(q.events, 60_000)).rejects.toThrow(
        /did not finish within 15 s.*JOB_TIMEOUT_MS/,
      );
    } finally {
      clearInterval(watching);
    }
    expect(mostFfmpeg).toBeGreaterThan(0);
    const failed = await q.queue.getJob(jobId);
    expect(failed?.attemptsMade).toBe(1);
    let left = await ffmpegChildren();
    for (let i = 0; i < 50 && left > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      left = await ffmpegChildren();
    }
    expect(left).toBe(0);
    const record = await q.requests.get(jobId);
    expect(record?.files[0]).toMatchObject({ state: 'failed' });
  });

  it('an hour of 16x16 frames is refused once by the worker (the chat apps rely on this)', async () => {
    testQueue = await freshQueue();
    const q = testQueue;
    running = await startConversionWorker(loadWorkerConfig(q.env));
    const clip = join(q.storageDir, 'hour.mp4');
    await makeLavfiClip(clip, { video: 'color=c=red:size=16x16:rate=1:duration=3600' });
    const jobId = await videoJob(q, clip, { framerate: 60 });
    const job = await q.queue.getJob(jobId);
    await expect(job!.waitUntilFinished(q.events, 60_000)).rejects.toThrow(
      /over the limit of 600 s \(MAX_VIDEO_SECONDS\)/,
    );
    expect((await q.queue.getJob(jobId))?.attemptsMade).toBe(1);
  });
});
