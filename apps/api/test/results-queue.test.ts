import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeLavfiClip } from '@bgremover/test-kit/lavfi-clip';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postForm, type Stack, startStack } from './api-harness.js';

// No worker: jobs stay queued until the test marks one started, as a worker does.
let stack: Stack;
let photo: Buffer;
let clip: Buffer;

beforeAll(async () => {
  stack = await startStack({}, false);
  photo = await sharp({
    create: { width: 32, height: 32, channels: 3, background: '#3a6' },
  })
    .png()
    .toBuffer();
  const clipPath = join(stack.storageDir, 'clip.mp4');
  await makeLavfiClip(clipPath, { video: 'testsrc2=size=64x48:rate=5:duration=1' });
  clip = await readFile(clipPath);
});
afterAll(() => stack.close());

async function convert(kind: 'image' | 'video', count = 1): Promise<string> {
  const files = Array.from(
    { length: count },
    (_, index) =>
      (kind === 'image' ? ['files', `p${index}.png`, photo] : ['files', `c${index}.mp4`, clip]) as [
        string,
        string,
        Buffer,
      ],
  );
  const { status, body } = await postForm(
    `${stack.baseUrl}/v1/convert/`,
    { convert_to: `${kind}-backgroundremover` },
    files,
  );
  expect(status, JSON.stringify(body)).toBe(200);
  return body.uuid as string;
}

async function queueCount(uuid: string): Promise<number> {
  const response = await fetch(`${stack.baseUrl}/v1/results/`, {
    method: 'POST',
    body: new URLSearchParams({ uuid }),
  });
  const body = (await response.json()) as { queue_count: number; finished: boolean };
  expect(body.finished).toBe(false);
  return body.queue_count;
}

describe('/v1/results/ queue_count', () => {
  it('counts the jobs that will run before a request, in the order workers take them', async () => {
    const first = await convert('image');
    const second = await convert('image', 2);
    expect(await queueCount(first)).toBe(0);
    expect(await queueCount(second)).toBe(1);

    // Images go ahead of videos: an image sent after a video still runs first.
    const video = await convert('video');
    const lateImage = await convert('image');
    expect(await queueCount(lateImage)).toBe(3);
    expect(await queueCount(video)).toBe(4);
    // Jobs queued after a request never count against it.
    expect(await queueCount(first)).toBe(0);
  });

  it("is 0 once a worker has started one of the request's files", async () => {
    const waiting = await convert('image', 2);
    expect(await queueCount(waiting)).toBeGreaterThan(0);
    await stack.api.context.requests.markStarted(waiting, 1);
    expect(await queueCount(waiting)).toBe(0);
  });
});

describe('/v1/results/ progress', () => {
  it("reports each started file's stage, percent and frames, as its worker updates them", async () => {
    const uuid = await convert('video');
    const poll = async () => {
      const response = await fetch(`${stack.baseUrl}/v1/results/?uuid=${uuid}`);
      return (await response.json()) as { progress?: unknown[]; finished: boolean };
    };
    // Nothing has started: nothing to report, and the body is the seed's (plus warnings).
    expect((await poll()).progress).toBeUndefined();
    const record = await stack.api.context.requests.get(uuid);
    const jobId = record?.files[0]?.jobId;
    if (!jobId) throw new Error('no job for the clip');
    await stack.api.context.requests.markStarted(uuid, 0);
    const job = await stack.api.context.queue.getJob(jobId);
    await job?.updateProgress({ stage: 'processing', percent: 40, framesDone: 2, framesTotal: 5 });
    expect((await poll()).progress).toEqual([
      { filename: 'c0.mp4', stage: 'processing', percent: 40, frames_done: 2, frames_total: 5 },
    ]);
  });
});
