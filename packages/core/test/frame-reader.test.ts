import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeLavfiClip } from '@bgremover/test-kit/lavfi-clip';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openFrameReader } from '../src/video/frame-reader.js';

let dir: string;
let clipPath: string;
// Frames larger than a pipe chunk (64 KB), so a chunk never completes more than one frame.
const size = { width: 320, height: 240 };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'frame-reader-'));
  clipPath = join(dir, 'moving.mp4');
  await makeLavfiClip(clipPath, { video: 'testsrc2=size=320x240:rate=10:duration=2' });
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function frameDigests(
  releaseEach: boolean,
): Promise<{ digests: string[]; buffers: Set<ArrayBufferLike> }> {
  const reader = openFrameReader({ path: clipPath, ...size, filters: ['scale=320:240'] });
  const digests: string[] = [];
  const buffers = new Set<ArrayBufferLike>();
  for (;;) {
    const frame = await reader.next();
    if (!frame) break;
    expect(frame.length).toBe(size.width * size.height * 3);
    digests.push(createHash('sha1').update(frame).digest('hex'));
    buffers.add(frame.buffer);
    if (releaseEach) reader.release(frame);
  }
  return { digests, buffers };
}

describe('frame reader', () => {
  it('decodes the same frames whether or not they are handed back for reuse', async () => {
    const fresh = await frameDigests(false);
    const reused = await frameDigests(true);
    expect(fresh.digests).toHaveLength(20);
    // testsrc2 moves every frame: each frame differs from the one before.
    expect(new Set(fresh.digests).size).toBe(20);
    expect(reused.digests).toEqual(fresh.digests);
    // Released frames are decoded into again instead of allocating one buffer per frame: the
    // one the caller holds, one finished and waiting, one being filled (and one to spare).
    expect(fresh.buffers.size).toBe(20);
    expect(reused.buffers.size).toBeLessThanOrEqual(4);
  });
});
