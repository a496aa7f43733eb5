import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeLavfiClip } from '@bgremover/test-kit/lavfi-clip';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { framesProblem, inspectAttachment, plannedVideoFrames } from '../src/inspect-attachment.js';

let dir: string;
let server: Server;
let url: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bgremover-discord-frames-'));
  const clip = join(dir, 'clip.mp4');
  await makeLavfiClip(clip, { video: 'color=c=red:s=16x16:r=25:d=50', preset: 'ultrafast' });
  const bytes = await readFile(clip);
  server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'video/mp4', 'content-length': bytes.length });
    response.end(bytes);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/clip.mp4`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

describe('planned video frames in the Discord bot', () => {
  it('counts the frames after framerate and frame_limit', () => {
    expect(plannedVideoFrames(50, 25, {})).toBe(1250);
    expect(plannedVideoFrames(50, 25, { framerate: 60 })).toBe(3000);
    expect(plannedVideoFrames(50, 25, { framerate: 60, frame_limit: 100 })).toBe(100);
    expect(plannedVideoFrames(50, undefined, {})).toBeUndefined();
  });

  it('refuses over MAX_VIDEO_FRAMES, naming it', () => {
    expect(framesProblem('a.mp4', 50, 25, { framerate: 60 }, 2000)).toBe(
      'a.mp4 would make 3000 frames; the limit is 2000 (MAX_VIDEO_FRAMES): choose a lower frame rate or a frame limit',
    );
    expect(framesProblem('a.mp4', 50, 25, { framerate: 60, frame_limit: 2000 }, 2000)).toBe(
      undefined,
    );
  });

  it("reads a clip's length and rate with ffprobe (under its memory limit)", async () => {
    const outcome = await inspectAttachment(
      { id: '1', name: 'clip.mp4', url, size: 1, contentType: 'video/mp4' },
      { maxVideoSeconds: 60, maxInputBytes: 10_000_000 },
    );
    expect(outcome).toMatchObject({ ok: true, kind: 'video', fps: 25 });
    expect((outcome as { durationSeconds: number }).durationSeconds).toBeCloseTo(50, 0);
  });
});
