/**
 * The image outputs (cut-out, mask, colour background, picture background) with and without
 * alpha matting, judged by every pixel of the subject's inside and of the background: colour
 * where the output is opaque, alpha where it must be clear, the background where one was asked.
 */
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CoreConfig,
  closeMattingWorker,
  type ImageParamsInput,
  removeImageBackground,
} from '../src/index.js';
import { decodeRaw, realConfig, type SyntheticScene, syntheticSubject } from './helpers.js';

let config: CoreConfig;
let scene: SyntheticScene;
let yellowPicture: Buffer;

beforeAll(async () => {
  config = realConfig();
  scene = await syntheticSubject();
  yellowPicture = await sharp({
    create: { width: 200, height: 100, channels: 3, background: '#ffff00' },
  })
    .png()
    .toBuffer();
});
afterAll(() => closeMattingWorker());

/** Where a pixel sits against the scene's ellipse (centre 170,160; radii 100,130). */
function regionOf(x: number, y: number): 'inside' | 'outside' | 'edge' {
  const distance = ((x - 170) / 100) ** 2 + ((y - 160) / 130) ** 2;
  if (distance < 0.8) return 'inside';
  if (distance > 1.25) return 'outside';
  return 'edge';
}

type Pixel = number[];
type Check = (pixel: Pixel) => boolean;

const near = (expected: readonly number[], tolerance: number): Check => {
  return (pixel) =>
    expected.every((value, channel) => Math.abs(pixel[channel]! - value) <= tolerance);
};
const SUBJECT_RGB = [220, 40, 40] as const;

interface Output {
  name: string;
  params: ImageParamsInput;
  background?: Buffer;
  channels: number;
  inside: Check;
  outside: Check;
}

const outputs: Output[] = [
  {
    name: 'cut-out',
    params: {},
    channels: 4,
    inside: (p) => p[3]! > 230 && near(SUBJECT_RGB, 25)(p),
    outside: (p) => p[3]! < 40,
  },
  {
    name: 'only_mask',
    params: { only_mask: true },
    channels: 1,
    inside: (p) => p[0]! > 215,
    outside: (p) => p[0]! < 40,
  },
  {
    name: 'colour background',
    params: { bg_type: 'color', bg_color_value: '#0000ff' },
    channels: 3,
    inside: near(SUBJECT_RGB, 25),
    outside: near([0, 0, 255], 30),
  },
  {
    name: 'picture background',
    params: { bg_type: 'image' },
    channels: 3,
    inside: near(SUBJECT_RGB, 25),
    outside: near([255, 255, 0], 30),
  },
];

describe('image outputs x {plain, alpha_matting}, by the pixels', () => {
  const cases = outputs.flatMap((output) =>
    [false, true].map(
      (matting) =>
        [`${output.name} / ${matting ? 'alpha_matting' : 'plain'}`, output, matting] as const,
    ),
  );
  it.each(cases)('%s', async (_name, output, matting) => {
    const result = await removeImageBackground(
      scene.png,
      { model: 'u2netp', alpha_matting: matting, ...output.params },
      { config, ...(output.params.bg_type === 'image' ? { background: yellowPicture } : {}) },
    );
    const raw = await decodeRaw(result.data);
    expect([raw.width, raw.height, raw.channels]).toEqual([
      scene.width,
      scene.height,
      output.channels,
    ]);
    const tally = { inside: [0, 0], outside: [0, 0] };
    let example = '';
    for (let y = 0; y < scene.height; y++) {
      for (let x = 0; x < scene.width; x++) {
        const region = regionOf(x, y);
        if (region === 'edge') continue;
        const offset = (y * scene.width + x) * raw.channels;
        const pixel = [...raw.data.subarray(offset, offset + raw.channels)];
        const ok = (region === 'inside' ? output.inside : output.outside)(pixel);
        tally[region][1]!++;
        if (!ok) {
          tally[region][0]!++;
          if (!example) example = `${region} ${x},${y}: ${pixel.join(',')}`;
        }
      }
    }
    expect(tally.inside[0]! / tally.inside[1]!, example).toBeLessThan(0.02);
    expect(tally.outside[0]! / tally.outside[1]!, example).toBeLessThan(0.02);
  });
});
