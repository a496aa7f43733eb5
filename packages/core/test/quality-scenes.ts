/**
 * The matting quality set: known foregrounds with a known soft alpha composited over varied
 * backgrounds (I = alpha F + (1 - alpha) B, 8-bit), and the error measures the report and the
 * tests use. Everything is generated, so the truth is exact.
 */

import sharp from 'sharp';

export interface QualityScene {
  name: string;
  width: number;
  height: number;
  /** The composite, packed RGB. */
  rgb: Uint8Array;
  /** The same composite encoded as PNG (the pipeline's input). */
  png: Buffer;
  /** True alpha, 0..1 per pixel. */
  alpha: Float32Array;
  /** True foreground colour, packed RGB 0..255 (straight). */
  foreground: Uint8Array;
}

export type ForegroundKind = 'feathered-disk' | 'hair-strands';
export type BackgroundKind = 'flat' | 'gradient' | 'noise' | 'stripes';

export const foregroundKinds: ForegroundKind[] = ['feathered-disk', 'hair-strands'];
export const backgroundKinds: BackgroundKind[] = ['flat', 'gradient', 'noise', 'stripes'];

/** A small deterministic pseudo-random generator (mulberry32), so scenes are reproducible. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function smoothstep(edge0: number, edge1: number, x: number): number {
  const t = Math.min(1, Math.max(0, (x - edge0) / (edge1 - edge0)));
  return t * t * (3 - 2 * t);
}

/** A disk whose edge fades over `feather` pixels, in warm colours shaded across the disk. */
function featheredDisk(width: number, height: number): { alpha: Float32Array; fg: Uint8Array } {
  const alpha = new Float32Array(width * height);
  const fg = new Uint8Array(width * height * 3);
  const cx = width * 0.45;
  const cy = height * 0.5;
  const radius = Math.min(width, height) * 0.33;
  const feather = Math.max(6, radius * 0.15);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const distance = Math.hypot(x - cx, y - cy);
      alpha[i] = 1 - smoothstep(radius - feather / 2, radius + feather / 2, distance);
      const shade = 0.75 + 0.25 * Math.cos((x - cx) / radius + (y - cy) / (2 * radius));
      fg[i * 3] = Math.round(230 * shade);
      fg[i * 3 + 1] = Math.round(120 * shade + 20 * ((x / width) * 2));
      fg[i * 3 + 2] = Math.round(40 + 30 * (y / height));
    }
  }
  return { alpha, fg };
}

/**
 * A head-like ellipse with thin strands (about 1 to 3 px wide, opacity 0.35 to 1) curling
 * outwards from it, antialiased by their distance to the strand's centre line.
 */
function hairStrands(width: number, height: number): { alpha: Float32Array; fg: Uint8Array } {
  const alpha = new Float32Array(width * height);
  const fg = new Uint8Array(width * height * 3);
  const rand = random(7);
  const cx = width * 0.5;
  const cy = height * 0.62;
  const rx = width * 0.2;
  const ry = height * 0.28;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const d = Math.hypot((x - cx) / rx, (y - cy) / ry);
      alpha[i] = 1 - smoothstep(0.97, 1.03, d);
      const t = (x + y) / (width + height);
      fg[i * 3] = Math.round(120 + 60 * t);
      fg[i * 3 + 1] = Math.round(80 + 40 * t);
      fg[i * 3 + 2] = Math.round(40 + 20 * t);
    }
  }
  const strands = 70;
  for (let s = 0; s < strands; s++) {
    const angle = Math.PI * (1.05 + 0.9 * (s / (strands - 1))) + (rand() - 0.5) * 0.08;
    const length = Math.min(width, height) * (0.12 + 0.2 * rand());
    const halfWidth = 0.5 + rand() * 1.0;
    const opacity = 0.35 + 0.65 * rand();
    const curl = (rand() - 0.5) * 0.02;
    let px = cx + Math.cos(angle) * rx * 0.9;
    let py = cy + Math.sin(angle) * ry * 0.9;
    let direction = angle;
    const steps = Math.ceil(length * 2);
    for (let step = 0; step < steps; step++) {
      direction += curl;
      px += Math.cos(direction) * 0.5;
      py += Math.sin(direction) * 0.5;
      const reach = Math.ceil(halfWidth + 1);
      for (let y = Math.floor(py) - reach; y <= Math.ceil(py) + reach; y++) {
        for (let x = Math.floor(px) - reach; x <= Math.ceil(px) + reach; x++) {
          if (x < 0 || y < 0 || x >= width || y >= height) continue;
          const coverage = Math.min(1, Math.max(0, halfWidth + 0.5 - Math.hypot(x - px, y - py)));
          const value = coverage * opacity * (1 - (0.5 * step) / steps);
          const i = y * width + x;
          if (value > alpha[i]!) alpha[i] = value;
        }
      }
    }
  }
  return { alpha, fg };
}

function background(kind: BackgroundKind, width: number, height: number): Uint8Array {
  const bg = new Uint8Array(width * height * 3);
  const rand = random(11);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      let rgb: [number, number, number];
      if (kind === 'flat') rgb = [70, 140, 200];
      else if (kind === 'gradient') {
        const t = x / width;
        const u = y / height;
        rgb = [40 + 180 * t, 200 - 120 * u, 90 + 100 * u];
      } else if (kind === 'noise') {
        const n = (rand() - 0.5) * 60;
        rgb = [100 + n, 125 + n * 0.8, 100 + n * 0.6];
      } else {
        const stripe = Math.floor((x + y * 0.4) / 14) % 2 === 0;
        rgb = stripe ? [30, 160, 90] : [200, 210, 230];
      }
      bg[i] = Math.round(Math.min(255, Math.max(0, rgb[0])));
      bg[i + 1] = Math.round(Math.min(255, Math.max(0, rgb[1])));
      bg[i + 2] = Math.round(Math.min(255, Math.max(0, rgb[2])));
    }
  }
  return bg;
}

/** Builds one scene of the quality set. */
export async function makeScene(
  foregroundKind: ForegroundKind,
  backgroundKind: BackgroundKind,
  width = 400,
  height = 300,
): Promise<QualityScene> {
  const { alpha, fg } =
    foregroundKind === 'feathered-disk' ? featheredDisk(width, height) : hairStrands(width, height);
  const bg = background(backgroundKind, width, height);
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < alpha.length; i++) {
    const a = alpha[i]!;
    for (let c = 0; c < 3; c++) {
      rgb[i * 3 + c] = Math.round(a * fg[i * 3 + c]! + (1 - a) * bg[i * 3 + c]!);
    }
  }
  const png = await sharp(rgb, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
  return {
    name: `${foregroundKind} over ${backgroundKind}`,
    width,
    height,
    rgb,
    png,
    alpha,
    foreground: fg,
  };
}

/** Every foreground over every background. */
export async function makeQualitySet(width = 400, height = 300): Promise<QualityScene[]> {
  const scenes: QualityScene[] = [];
  for (const f of foregroundKinds) {
    for (const b of backgroundKinds) scenes.push(await makeScene(f, b, width, height));
  }
  return scenes;
}

export interface AlphaErrors {
  /** Sum of absolute alpha differences (alpha in 0..1), divided by 1000 as matting papers do. */
  sad: number;
  /** Mean squared alpha error over the picture, times 1000. */
  mse: number;
  /**
   * Mean absolute RGB difference (0..255) at the edges between the result and the truth, both
   * composed over mid grey: pixels whose true alpha is strictly between 0 and 1. It catches a
   * wrong alpha and the old background's colour left in the edge.
   */
  edgeColour: number;
}

/** Scores a cut-out PNG (as the pipeline returns it) against the scene's truth. */
export async function scoreCutout(scene: QualityScene, png: Buffer): Promise<AlphaErrors> {
  const { data } = await sharp(png).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  const alpha = new Uint8Array(scene.width * scene.height);
  const colour = new Uint8Array(scene.width * scene.height * 3);
  for (let i = 0; i < alpha.length; i++) {
    alpha[i] = data[i * 4 + 3]!;
    for (let c = 0; c < 3; c++) colour[i * 3 + c] = data[i * 4 + c]!;
  }
  return scoreResult(scene, alpha, colour);
}

/**
 * Scores a result (alpha 0..255 and straight RGB colour, as the cut-out PNG stores them)
 * against the scene's truth.
 */
export function scoreResult(
  scene: QualityScene,
  alpha: Uint8Array,
  colour: Uint8Array,
): AlphaErrors {
  let sad = 0;
  let squared = 0;
  let edgeSum = 0;
  let edgeCount = 0;
  const grey = 128;
  for (let i = 0; i < scene.alpha.length; i++) {
    const truth = scene.alpha[i]!;
    const predicted = alpha[i]! / 255;
    const difference = predicted - truth;
    sad += Math.abs(difference);
    squared += difference * difference;
    if (truth > 0.002 && truth < 0.998) {
      for (let c = 0; c < 3; c++) {
        const expected = truth * scene.foreground[i * 3 + c]! + (1 - truth) * grey;
        const got = predicted * colour[i * 3 + c]! + (1 - predicted) * grey;
        edgeSum += Math.abs(expected - got);
      }
      edgeCount += 3;
    }
  }
  return {
    sad: sad / 1000,
    mse: (squared / scene.alpha.length) * 1000,
    edgeColour: edgeCount ? edgeSum / edgeCount : 0,
  };
}

/** Averages errors over scenes. */
export function meanErrors(errors: AlphaErrors[]): AlphaErrors {
  const n = Math.max(1, errors.length);
  return {
    sad: errors.reduce((s, e) => s + e.sad, 0) / n,
    mse: errors.reduce((s, e) => s + e.mse, 0) / n,
    edgeColour: errors.reduce((s, e) => s + e.edgeColour, 0) / n,
  };
}
