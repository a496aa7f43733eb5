/** Helpers the benchmarks share (not a benchmark itself). */

import { fileURLToPath } from 'node:url';
import sharp, { type Sharp } from 'sharp';

/** The median of some timings (the mean of the middle two for an even count). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** A fixture photo's path (fixtures/images at the repository root). */
export function fixture(name: string): string {
  return fileURLToPath(new URL(`../../../fixtures/images/${name}`, import.meta.url));
}

/**
 * `scaled` (a picture already resized to `width` x `height`) as a quality-90 JPEG with a little
 * gaussian noise overlaid, so that it is not unrealistically smooth, like a camera's.
 */
export async function noisyJpeg(scaled: Sharp, width: number, height: number): Promise<Buffer> {
  const noise = await sharp({
    create: {
      width,
      height,
      channels: 3,
      background: '#000000',
      noise: { type: 'gaussian', mean: 0, sigma: 6 },
    },
  })
    .raw()
    .toBuffer();
  return scaled
    .composite([{ input: noise, raw: { width, height, channels: 3 }, blend: 'overlay' }])
    .jpeg({ quality: 90 })
    .toBuffer();
}
