import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { type CoreConfig, loadCoreConfig } from '../src/index.js';

/** The repository's fixture photos (public domain / CC0, see fixtures/LICENSES.md). */
export function fixturePath(name: string): string {
  return fileURLToPath(new URL(`../../../fixtures/images/${name}`, import.meta.url));
}

/** Core config from the environment: the real models directory, where setup put u2netp. */
export function realConfig(overrides: Partial<CoreConfig> = {}): CoreConfig {
  return { ...loadCoreConfig(), ...overrides };
}

/** A fresh empty folder, removed by the returned cleanup. */
export async function tempDir(
  prefix: string,
): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `bgremover-${prefix}-`));
  return { path, cleanup: () => rm(path, { recursive: true, force: true }) };
}

/** Runs `use` with a fresh empty folder (see `tempDir`), removed afterwards whatever happens. */
export async function withTempDir<T>(
  prefix: string,
  use: (dir: { path: string }) => Promise<T>,
): Promise<T> {
  const dir = await tempDir(prefix);
  try {
    return await use(dir);
  } finally {
    await dir.cleanup();
  }
}

/**
 * Decodes an encoded image to raw pixels keeping the channel count it was stored with (sharp's
 * raw output would otherwise expand grey to RGB).
 */
export async function decodeRaw(
  encoded: Buffer,
): Promise<{ data: Buffer; width: number; height: number; channels: number }> {
  const stored = (await sharp(encoded).metadata()).channels;
  let pipeline = sharp(encoded);
  if (stored === 1) pipeline = pipeline.extractChannel(0);
  else if (stored === 3) pipeline = pipeline.removeAlpha();
  else pipeline = pipeline.ensureAlpha();
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

/** Intersection over union of two binary masks given as 0/1 (or thresholded at 128). */
export function iou(predicted: Uint8Array, truth: Uint8Array, threshold = 128): number {
  let intersection = 0;
  let union = 0;
  for (let i = 0; i < truth.length; i++) {
    const p = predicted[i]! >= threshold;
    const t = truth[i]! > 0;
    if (p && t) intersection++;
    if (p || t) union++;
  }
  return union === 0 ? 0 : intersection / union;
}

export interface SyntheticScene {
  png: Buffer;
  /** 1 where the subject is, 0 elsewhere. */
  truth: Uint8Array;
  width: number;
  height: number;
}

/**
 * A red, off-centre ellipse on a textured (noisy green-grey) background. Off-centre and
 * non-square so that a flipped, transposed or shifted mask fails the IoU check.
 */
export async function syntheticSubject(): Promise<SyntheticScene> {
  const width = 480;
  const height = 360;
  const pixels = await sharp({
    create: {
      width,
      height,
      channels: 3,
      background: '#6b7d6b',
      noise: { type: 'gaussian', mean: 110, sigma: 25 },
    },
  })
    .raw()
    .toBuffer();
  const truth = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (((x - 170) / 100) ** 2 + ((y - 160) / 130) ** 2 <= 1) {
        const offset = (y * width + x) * 3;
        pixels[offset] = 220;
        pixels[offset + 1] = 40;
        pixels[offset + 2] = 40;
        truth[y * width + x] = 1;
      }
    }
  }
  const png = await sharp(pixels, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
  return { png, truth, width, height };
}

/**
 * A tiny PNG whose header claims `width` x `height`, followed by a few hundred bytes of
 * compressed zeros: the shape of a decompression bomb.
 */
export async function pngBomb(width: number, height: number): Promise<Buffer> {
  const { crc32, deflateSync } = await import('node:zlib');
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.writeUInt8(8, 8); // bit depth
  ihdr.writeUInt8(2, 9); // colour type RGB
  const chunk = (type: string, data: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const typed = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(typed));
    return Buffer.concat([length, typed, crc]);
  };
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([
    signature,
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.alloc(64 * 1024))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
