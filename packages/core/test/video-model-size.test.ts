import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CoreConfig,
  closeInferenceThread,
  removeVideoBackground,
  type VideoParamsInput,
} from '../src/index.js';
import { realConfig, tempDir } from './helpers.js';
import { ffmpeg } from './video-helpers.js';

const run = promisify(execFile);
const photos = fileURLToPath(new URL('../../../fixtures/images/', import.meta.url));
const FRAMES = 8;
/** One clip larger than the model's input on both sides, one shorter on one side. */
const sizes = { large: { width: 560, height: 360 }, short: { width: 480, height: 270 } };

let config: CoreConfig;
let work: { path: string; cleanup: () => Promise<void> };
const pans: Record<keyof typeof sizes, string> = { large: '', short: '' };

beforeAll(async () => {
  config = realConfig();
  work = await tempDir('model-size');
  // A real photo, panned a few pixels a frame: each frame's mask differs a little.
  for (const [name, { width, height }] of Object.entries(sizes) as [
    keyof typeof sizes,
    { width: number; height: number },
  ][]) {
    pans[name] = join(work.path, `pan-${name}.mp4`);
    await ffmpeg([
      '-loop',
      '1',
      '-i',
      join(photos, 'astronaut.png'),
      '-vf',
      `scale=${width + 80}:-2,crop=${width}:${height}:'n*6':'20-n*2',format=yuv420p`,
      '-r',
      '10',
      '-frames:v',
      String(FRAMES),
      '-c:v',
      'libx264',
      '-crf',
      '16',
      pans[name],
    ]);
  }
});
afterAll(async () => {
  await closeInferenceThread();
  await work?.cleanup();
});

/** Every frame's alpha plane, decoded from a file with alpha. */
async function alphaPlanes(path: string, width: number, height: number): Promise<Buffer[]> {
  const decoder = path.endsWith('.webm') ? ['-c:v', 'libvpx-vp9'] : [];
  const { stdout } = await run(
    'ffmpeg',
    ['-v', 'error', ...decoder, '-i', path, '-f', 'rawvideo', '-pix_fmt', 'rgba', 'pipe:1'],
    { encoding: 'buffer', maxBuffer: 256 << 20 },
  );
  const frameBytes = width * height * 4;
  const planes: Buffer[] = [];
  for (let offset = 0; offset + frameBytes <= stdout.length; offset += frameBytes) {
    const plane = Buffer.alloc(width * height);
    for (let i = 0; i < plane.length; i++) plane[i] = stdout[offset + i * 4 + 3] ?? 0;
    planes.push(plane);
  }
  return planes;
}

function compare(a: Buffer, b: Buffer): { iou: number; mae: number } {
  let intersection = 0;
  let union = 0;
  let error = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    if (x >= 128 && y >= 128) intersection++;
    if (x >= 128 || y >= 128) union++;
    error += Math.abs(x - y);
  }
  return { iou: union === 0 ? 1 : intersection / union, mae: error / a.length };
}

async function bothPaths(source: string, params: VideoParamsInput, extension: string) {
  const options = (name: string, pipeline: 'auto' | 'frames') => ({
    config,
    pipeline,
    outputPath: join(work.path, `${name}.${extension}`),
  });
  const name = `${extension}-${source.slice(-9, -4)}`;
  const fast = await removeVideoBackground(source, params, options(`fast-${name}`, 'auto'));
  const full = await removeVideoBackground(source, params, options(`full-${name}`, 'frames'));
  return { fast, full };
}

describe('the model-size path (full-size pixels stay in ffmpeg)', () => {
  it.each([
    ['mov', 'large'],
    ['webm', 'large'],
    ['mov', 'short'],
  ] as const)(
    'gives %s masks (%s clip) that match the full-size path frame by frame',
    async (format, clip) => {
      const { width, height } = sizes[clip];
      const params = { model: 'u2netp', video_format: format } as const;
      const { fast, full } = await bothPaths(pans[clip], params, format);
      expect([fast.frames, fast.width, fast.height]).toEqual([FRAMES, width, height]);
      expect([full.frames, full.width, full.height]).toEqual([FRAMES, width, height]);
      const fastAlpha = await alphaPlanes(fast.path, width, height);
      const fullAlpha = await alphaPlanes(full.path, width, height);
      expect(fastAlpha).toHaveLength(FRAMES);
      expect(fullAlpha).toHaveLength(FRAMES);
      const scores = fastAlpha.map((plane, n) => compare(plane, fullAlpha[n] ?? Buffer.alloc(0)));
      const worstIou = Math.min(...scores.map((score) => score.iou));
      const worstMae = Math.max(...scores.map((score) => score.mae));
      console.info(
        `${format} ${clip}: worst per-frame IoU ${worstIou.toFixed(4)}, worst MAE ${worstMae.toFixed(2)}/255`,
      );
      // The subject is there (a broken merge would give all-opaque or all-clear frames)...
      for (const plane of fastAlpha) {
        const opaque = plane.filter((value) => value >= 200).length / plane.length;
        expect(opaque).toBeGreaterThan(0.05);
        expect(opaque).toBeLessThan(0.9);
      }
      // ...and it is the same mask as the full-size path's, frame by frame.
      expect(worstIou).toBeGreaterThan(0.97);
      expect(worstMae).toBeLessThan(2.5);
    },
  );

  it('runs frames in batches on a symbolic-batch session with the same masks as one by one', async () => {
    const { width, height } = sizes.large;
    const params = { model: 'u2netp', video_format: 'mov' } as const;
    const single = await removeVideoBackground(pans.large, params, {
      config,
      outputPath: join(work.path, 'batch-1.mov'),
    });
    // Three frames a run over eight frames: two full runs and a short one.
    const batched = await removeVideoBackground(pans.large, params, {
      config: { ...config, inferenceBatch: 3 },
      outputPath: join(work.path, 'batch-3.mov'),
    });
    expect(batched.frames).toBe(FRAMES);
    const singleAlpha = await alphaPlanes(single.path, width, height);
    const batchedAlpha = await alphaPlanes(batched.path, width, height);
    expect(batchedAlpha).toHaveLength(FRAMES);
    const scores = batchedAlpha.map((plane, n) =>
      compare(plane, singleAlpha[n] ?? Buffer.alloc(0)),
    );
    const worstMae = Math.max(...scores.map((score) => score.mae));
    console.info(`batch of 3 against one by one: worst per-frame MAE ${worstMae.toFixed(3)}/255`);
    expect(Math.min(...scores.map((score) => score.iou))).toBeGreaterThan(0.999);
    expect(worstMae).toBeLessThan(0.5);
  });

  it.each(['auto', 'frames'] as const)(
    'two lanes (VIDEO_MODEL_LANES=2) give the same frames, in order, as one (%s path)',
    async (pipeline) => {
      const { width, height } = sizes.large;
      const params = { model: 'u2netp', video_format: 'mov' } as const;
      const oneLane = await removeVideoBackground(pans.large, params, {
        config: { ...config, videoModelLanes: 1 },
        pipeline,
        outputPath: join(work.path, `lanes-1-${pipeline}.mov`),
      });
      const twoLanes = await removeVideoBackground(pans.large, params, {
        config: { ...config, videoModelLanes: 2 },
        pipeline,
        outputPath: join(work.path, `lanes-2-${pipeline}.mov`),
      });
      expect(twoLanes.frames).toBe(FRAMES);
      const oneAlpha = await alphaPlanes(oneLane.path, width, height);
      const twoAlpha = await alphaPlanes(twoLanes.path, width, height);
      expect(twoAlpha).toHaveLength(FRAMES);
      // The clip pans, so a frame written out of order would match its neighbour's mask badly.
      const scores = twoAlpha.map((plane, n) => compare(plane, oneAlpha[n] ?? Buffer.alloc(0)));
      const worstMae = Math.max(...scores.map((score) => score.mae));
      console.info(
        `two lanes against one (${pipeline}): worst per-frame MAE ${worstMae.toFixed(3)}/255`,
      );
      expect(Math.min(...scores.map((score) => score.iou))).toBeGreaterThan(0.999);
      expect(worstMae).toBeLessThan(0.5);
      const shifted = compare(
        twoAlpha[FRAMES - 1] ?? Buffer.alloc(0),
        oneAlpha[0] ?? Buffer.alloc(0),
      );
      expect(shifted.mae).toBeGreaterThan(worstMae);
    },
  );
});
