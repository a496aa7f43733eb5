import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { makeLavfiClip } from '@bgremover/test-kit/lavfi-clip';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BgRemoverError,
  DEFAULT_VIDEO_LIMITS,
  parseVideoParams,
  probeVideo,
  releaseModels,
  removeVideoBackground,
} from '../src/index.js';
import { computeMatte } from '../src/matting/compute-matte.js';
import { probeMedia } from '../src/video/ffmpeg.js';
import { checkVideoLimits, planFrames } from '../src/video/frame-plan.js';
import { openFrameReader } from '../src/video/frame-reader.js';
import { realConfig, tempDir } from './helpers.js';
import { ffmpeg } from './video-helpers.js';

const run = promisify(execFile);
const config = realConfig();
let dir: { path: string; cleanup: () => Promise<void> };
/** 16x16, one frame a second for an hour (48 KB). */
let hour: string;
/** 16x16, one frame a second for 500 s: under the 600 s limit, over 18000 frames at 60 fps. */
let fiveHundred: string;
/** Two 16x16 frames 1,000,000 s apart (under 1 KB). */
let gap: string;
/** 320x240, one second. */
let small: string;

beforeAll(async () => {
  dir = await tempDir('video-limits');
  hour = join(dir.path, 'hour.mp4');
  fiveHundred = join(dir.path, 'five-hundred.mp4');
  gap = join(dir.path, 'gap.mkv');
  small = join(dir.path, 'small.mp4');
  await makeLavfiClip(hour, { video: 'color=c=red:s=16x16:r=1:d=3600', preset: 'ultrafast' });
  await makeLavfiClip(fiveHundred, { video: 'color=c=red:s=16x16:r=1:d=500', preset: 'ultrafast' });
  await ffmpeg([
    ...['-f', 'lavfi', '-i', 'color=c=red:s=16x16:r=1:d=2'],
    ...['-vf', 'setpts=N*1000000/TB', '-fps_mode', 'passthrough', '-c:v', 'ffv1', gap],
  ]);
  await makeLavfiClip(small, { video: 'testsrc=s=320x240:r=10:d=1', preset: 'ultrafast' });
});
afterAll(async () => {
  await releaseModels();
  await dir.cleanup();
});

async function refusal(promise: Promise<unknown>): Promise<BgRemoverError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(BgRemoverError);
  return error as BgRemoverError;
}

/** ffmpeg or ffprobe processes whose command line mentions `text`. */
async function processesMentioning(text: string): Promise<number> {
  const { stdout } = await run('ps', ['-eo', 'args']).catch(() => ({ stdout: '' }));
  return stdout.split('\n').filter((line) => /ff(mpeg|probe)/.test(line) && line.includes(text))
    .length;
}

describe('video length limits', () => {
  it('an hour of 16x16 frames is refused before any frame is processed, naming MAX_VIDEO_SECONDS', async () => {
    const error = await refusal(removeVideoBackground(hour, {}, { config }));
    expect(error.code).toBe('input_too_long');
    expect(error.message).toMatch(/over the limit of 600 s \(MAX_VIDEO_SECONDS\)/);
    expect(error.message).toMatch(/frame_limit=600 or less/);
  });

  it('500 s at framerate=60 is refused by the frame limit, which names framerate and frame_limit', async () => {
    const error = await refusal(removeVideoBackground(fiveHundred, { framerate: 60 }, { config }));
    expect(error.code).toBe('input_too_long');
    expect(error.message).toMatch(/would make 30000 frames/);
    expect(error.message).toMatch(/18000 frames \(MAX_VIDEO_FRAMES\)/);
    expect(error.message).toMatch(/framerate=36/);
  });

  it('frame_limit brings a long video under the limits (only the planned frames count)', async () => {
    const info = await probeVideo(hour, DEFAULT_VIDEO_LIMITS.maxVideoPixels);
    const plan = planFrames(info, parseVideoParams({ frame_limit: 100, framerate: 60 }));
    expect(() => checkVideoLimits(info, plan, DEFAULT_VIDEO_LIMITS)).not.toThrow();
  });

  it('two frames 1,000,000 s apart with framerate=60 are refused up front', async () => {
    const error = await refusal(removeVideoBackground(gap, { framerate: 60 }, { config }));
    expect(error.code).toBe('input_too_long');
    expect(error.message).toMatch(/MAX_VIDEO_SECONDS/);
    expect(await processesMentioning(dir.path)).toBe(0);
  });

  it('the frame reader stops a timestamp gap at its frame cap and ends the decoder', async () => {
    const reader = openFrameReader({
      path: gap,
      width: 16,
      height: 16,
      filters: ['fps=60/1'],
      maxFrames: 50,
    });
    let frames = 0;
    const error = await refusal(
      (async () => {
        for (;;) {
          const frame = await reader.next();
          if (!frame) return;
          frames++;
          reader.release(frame);
        }
      })(),
    );
    expect(error.code).toBe('input_too_long');
    expect(error.message).toMatch(/more than 50 frames.*MAX_VIDEO_FRAMES/);
    expect(frames).toBe(50);
    for (let i = 0; i < 50 && (await processesMentioning(gap)) > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(await processesMentioning(gap)).toBe(0);
  });

  it('a frame over MAX_VIDEO_PIXELS is refused, naming the limit', async () => {
    const error = await refusal(
      removeVideoBackground(small, {}, { config: { ...config, maxVideoPixels: 10_000 } }),
    );
    expect(error.code).toBe('input_too_large');
    expect(error.message).toMatch(
      /320x240 per frame, over the limit of 10000 pixels per video frame \(MAX_VIDEO_PIXELS\)/,
    );
  });

  it('the default video pixel limit is 3840x2160, well under the image limit', () => {
    expect(config.maxVideoPixels).toBe(3840 * 2160);
    expect(config.maxVideoPixels).toBeLessThan(config.maxInputPixels);
  });
});

describe('ffprobe runs bounded', () => {
  it('a probe that never finishes (a FIFO nobody writes) is stopped at its timeout', async () => {
    const fifo = join(dir.path, 'never.fifo');
    await run('mkfifo', [fifo]);
    const error = await probeMedia(fifo, { timeoutMs: 500 }).catch((caught: Error) => caught);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/ffprobe did not finish within 0.5 s/);
    expect(await processesMentioning(fifo)).toBe(0);
  });

  it('at most two ffprobe processes run at once', async () => {
    const fifos = await Promise.all(
      [1, 2, 3, 4].map(async (n) => {
        const fifo = join(dir.path, `wait-${n}.fifo`);
        await run('mkfifo', [fifo]);
        return fifo;
      }),
    );
    const probes = fifos.map((fifo) => probeMedia(fifo, { timeoutMs: 1500 }).catch(() => 'done'));
    let most = 0;
    for (let i = 0; i < 20; i++) {
      most = Math.max(most, await processesMentioning(join(dir.path, 'wait-')));
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await Promise.all(probes);
    expect(most).toBe(2);
  });

  it('ffprobe reads a normal file under its memory limit', async () => {
    const probed = await probeMedia(small);
    expect(probed.streams[0]).toMatchObject({ width: 320, height: 240, codecType: 'video' });
  });
});

describe('matting memory limit', () => {
  it('a huge alpha_base_size is matted at MAX_MATTING_PIXELS at most, with a warning naming it', () => {
    const width = 300;
    const height = 200;
    const rgb = new Uint8Array(width * height * 3).fill(128);
    const mask = new Uint8Array(width * height);
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++) mask[y * width + x] = x < 100 ? 0 : x > 200 ? 255 : 128;
    const output = computeMatte({
      rgb,
      mask,
      width,
      height,
      params: { alpha_fg: 240, alpha_bg: 10, alpha_erode: 3, alpha_base_size: 8192 },
      maxPixels: 15_000,
    });
    expect(output.stats.workingWidth * output.stats.workingHeight).toBeLessThanOrEqual(15_000);
    expect(output.warnings.join(' ')).toMatch(/MAX_MATTING_PIXELS/);
    expect(output.alpha.length).toBe(width * height);
  });
});
