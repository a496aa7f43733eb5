import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { makeLavfiClip } from '@bgremover/test-kit/lavfi-clip';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postForm, type Stack, startStack } from './api-harness.js';

const run = promisify(execFile);
let stack: Stack;
let dir: string;
const video = { convert_to: 'video-backgroundremover' };

async function ffmpeg(args: string[]): Promise<Buffer> {
  const output = join(dir, `clip-${Math.random().toString(36).slice(2)}.${args.pop()}`);
  await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args, output]);
  return readFile(output);
}

/** A fast H.264 MP4 of a lavfi source (the pictures do not matter here), as bytes. */
async function clip(source: string): Promise<Buffer> {
  const output = join(dir, `clip-${Math.random().toString(36).slice(2)}.mp4`);
  return readFile(await makeLavfiClip(output, { video: source, preset: 'ultrafast' }));
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bgremover-api-video-limits-'));
  // No worker: whatever is not refused stays queued, and the queue is checked to be empty.
  stack = await startStack({ MAX_VIDEO_PIXELS: String(640 * 480) }, false);
});
afterAll(async () => {
  await stack.close();
  await rm(dir, { recursive: true, force: true });
});

async function expectRefused(
  fields: Record<string, string>,
  name: string,
  bytes: Buffer,
  pattern: RegExp,
): Promise<void> {
  const { status, body } = await postForm(`${stack.baseUrl}/v1/convert/`, fields, [
    ['files', name, bytes],
  ]);
  expect(status).toBe(413);
  expect(body.error).toMatch(pattern);
  const counts = await stack.api.context.queue.getJobCounts('waiting', 'active', 'delayed');
  expect(Object.values(counts).reduce((sum, count) => sum + count, 0)).toBe(0);
}

describe('video limits at the API, before queueing', () => {
  it.each([
    {
      what: 'an hour of 16x16 frames: 413 naming MAX_VIDEO_SECONDS and frame_limit',
      source: 'color=c=red:s=16x16:r=1:d=3600',
      fields: video,
      name: 'hour.mp4',
      pattern: /^hour\.mp4: .*over the limit of 600 s \(MAX_VIDEO_SECONDS\): .*frame_limit=600/,
    },
    {
      what: '500 s at framerate=60: 413 naming MAX_VIDEO_FRAMES, framerate and frame_limit',
      source: 'color=c=red:s=16x16:r=1:d=500',
      fields: { ...video, framerate: '60' },
      name: 'long.mp4',
      pattern:
        /30000 frames .*18000 frames \(MAX_VIDEO_FRAMES\): send frame_limit=18000 or less or a lower framerate \(framerate=36\)/,
    },
    {
      what: 'a frame over MAX_VIDEO_PIXELS: 413 naming it',
      source: 'color=c=blue:s=1280x720:r=1:d=1',
      fields: video,
      name: 'wide.mp4',
      pattern:
        /1280x720 per frame, over the limit of 307200 pixels per video frame \(MAX_VIDEO_PIXELS\)/,
    },
  ])('$what', async ({ source, fields, name, pattern }) => {
    await expectRefused(fields, name, await clip(source), pattern);
  });

  it('two frames 1,000,000 s apart (a 1 KB MKV) with framerate=60: 413', async () => {
    const bytes = await ffmpeg([
      ...['-f', 'lavfi', '-i', 'color=c=red:s=16x16:r=1:d=2'],
      ...['-vf', 'setpts=N*1000000/TB', '-fps_mode', 'passthrough', '-c:v', 'ffv1', 'mkv'],
    ]);
    expect(bytes.length).toBeLessThan(2048);
    await expectRefused({ ...video, framerate: '60' }, 'gap.mkv', bytes, /MAX_VIDEO_SECONDS/);
  });

  it('frame_limit brings a long video under the limits: queued', async () => {
    const bytes = await clip('color=c=red:s=16x16:r=1:d=3600');
    const { status } = await postForm(
      `${stack.baseUrl}/v1/convert/`,
      { ...video, frame_limit: '100' },
      [['files', 'hour.mp4', bytes]],
    );
    expect(status).toBeLessThan(300);
  });
});
