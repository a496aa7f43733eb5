import { afterAll, describe, expect, it } from 'vitest';
import {
  closeMattingWorker,
  type MaskRefiner,
  matteImage,
  mattingFrameHook,
} from '../src/index.js';
import { estimateAlphaClosedForm } from '../src/matting/closed-form.js';
import { computeMatte, type MattingParams } from '../src/matting/compute-matte.js';
import { solveConjugateGradient } from '../src/matting/conjugate-gradient.js';
import { estimateForeground } from '../src/matting/foreground.js';
import { buildMattingSystem } from '../src/matting/laplacian.js';
import { buildTrimap, TRIMAP_FOREGROUND, TRIMAP_UNKNOWN } from '../src/matting/trimap.js';
import { texturedScene } from './matting-helpers.js';

afterAll(closeMattingWorker);

const defaults: MattingParams = {
  alpha_fg: 240,
  alpha_bg: 10,
  alpha_erode: 10,
  alpha_base_size: 1000,
};

function countOf(values: Uint8Array, value: number): number {
  let count = 0;
  for (const v of values) if (v === value) count++;
  return count;
}

describe('trimap', () => {
  it('thresholds strictly: above alpha_fg is foreground, below alpha_bg background', () => {
    const mask = Uint8Array.from([0, 9, 10, 11, 239, 240, 241, 255]);
    const trimap = buildTrimap(mask, 8, 1, {
      foregroundThreshold: 240,
      backgroundThreshold: 10,
      erodeSize: 1,
    });
    expect([...trimap.values]).toEqual([0, 0, 128, 128, 128, 128, 255, 255]);
    expect([trimap.foregroundCount, trimap.backgroundCount, trimap.unknownCount]).toEqual([
      2, 2, 4,
    ]);
  });

  it('erodes both regions with a square kernel; outside the picture counts as background', () => {
    const width = 40;
    const mask = new Uint8Array(width * width);
    for (let y = 10; y < 30; y++) for (let x = 10; x < 30; x++) mask[y * width + x] = 255;
    const trimap = buildTrimap(mask, width, width, {
      foregroundThreshold: 240,
      backgroundThreshold: 10,
      erodeSize: 5,
    });
    // 5x5 kernel: two pixels off each side of the square, in both directions.
    expect(trimap.foregroundCount).toBe(16 * 16);
    expect(trimap.backgroundCount).toBe(40 * 40 - 24 * 24);
    expect(trimap.unknownCount).toBe(24 * 24 - 16 * 16);
    // The background reaches the picture's border: outside is background.
    expect(trimap.values[0]).toBe(0);
    expect(trimap.values[12 * width + 12]).toBe(TRIMAP_FOREGROUND);
    expect(trimap.values[11 * width + 11]).toBe(TRIMAP_UNKNOWN);
  });

  it('erodes the foreground at the picture border (outside is not foreground)', () => {
    const mask = new Uint8Array(10 * 10).fill(255);
    const trimap = buildTrimap(mask, 10, 10, {
      foregroundThreshold: 240,
      backgroundThreshold: 10,
      erodeSize: 3,
    });
    expect(trimap.foregroundCount).toBe(8 * 8);
    expect(trimap.backgroundCount).toBe(0);
  });

  it('uses scipy-style offsets for an even kernel (-k/2 .. k/2-1)', () => {
    const mask = new Uint8Array(12).fill(255);
    const trimap = buildTrimap(mask, 12, 1, {
      foregroundThreshold: 240,
      backgroundThreshold: 10,
      erodeSize: 4,
    });
    // Window -2..1: two pixels lost on the left, one on the right (and the one-row picture's
    // vertical window reaches outside too, so nothing survives in 2-D).
    expect(trimap.foregroundCount).toBe(0);
    const tall = buildTrimap(new Uint8Array(12 * 5).fill(255), 12, 5, {
      foregroundThreshold: 240,
      backgroundThreshold: 10,
      erodeSize: 4,
    });
    expect(tall.foregroundCount).toBe(9 * 2);
  });
});

/** Two flat colours mixed by a horizontal alpha ramp: the colour-line model holds exactly. */
function twoColourRamp(width: number, height: number) {
  const foreground = [0.9, 0.25, 0.1];
  const background = [0.1, 0.4, 0.85];
  const alpha = new Float32Array(width * height);
  const image = new Float32Array(width * height * 3);
  const trimap = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const a = Math.min(1, Math.max(0, (x - 10) / (width - 20)));
      alpha[i] = a;
      for (let c = 0; c < 3; c++) image[i * 3 + c] = a * foreground[c]! + (1 - a) * background[c]!;
      trimap[i] = x < 8 ? 0 : x >= width - 8 ? 255 : 128;
    }
  }
  return { image, alpha, trimap, foreground, background };
}

/** The matting Laplacian as a dense matrix, straight from Levin et al.'s formula. */
function denseLaplacian(image: Float32Array, width: number, height: number, epsilon: number) {
  const n = width * height;
  const L = Array.from({ length: n }, () => new Float64Array(n));
  for (let cy = 1; cy < height - 1; cy++) {
    for (let cx = 1; cx < width - 1; cx++) {
      const members: number[] = [];
      for (let dy = -1; dy <= 1; dy++)
        for (let dx = -1; dx <= 1; dx++) members.push((cy + dy) * width + cx + dx);
      const mean = [0, 1, 2].map((c) => members.reduce((s, p) => s + image[p * 3 + c]!, 0) / 9);
      const cov = [0, 1, 2].map((a) =>
        [0, 1, 2].map(
          (b) =>
            members.reduce(
              (s, p) => s + (image[p * 3 + a]! - mean[a]!) * (image[p * 3 + b]! - mean[b]!),
              0,
            ) /
              9 +
            (a === b ? epsilon / 9 : 0),
        ),
      );
      const inv = invert3(cov);
      for (const i of members) {
        for (const j of members) {
          let quad = 0;
          for (let a = 0; a < 3; a++) {
            for (let b = 0; b < 3; b++) {
              quad += (image[i * 3 + a]! - mean[a]!) * inv[a]![b]! * (image[j * 3 + b]! - mean[b]!);
            }
          }
          L[i]![j]! += (i === j ? 1 : 0) - (1 + quad) / 9;
        }
      }
    }
  }
  return L;
}

function invert3(m: number[][]): number[][] {
  const [a, b, c] = m[0]!;
  const [d, e, f] = m[1]!;
  const [g, h, k] = m[2]!;
  const A = e! * k! - f! * h!;
  const B = -(d! * k! - f! * g!);
  const C = d! * h! - e! * g!;
  const det = a! * A + b! * B + c! * C;
  return [
    [A / det, -(b! * k! - c! * h!) / det, (b! * f! - c! * e!) / det],
    [B / det, (a! * k! - c! * g!) / det, -(a! * f! - c! * d!) / det],
    [C / det, -(a! * h! - b! * g!) / det, (a! * e! - b! * d!) / det],
  ];
}

/** The solver tests' trimap: a sure disc, unknown in a ring whose width varies with x. */
function ring(x: number, y: number): number {
  const d = Math.hypot(x - 6, y - 5);
  return d < 2.5 ? 255 : d > 5 + (x % 3) ? 0 : 128;
}

describe('closed-form matting solver', () => {
  // A small textured picture and an irregular trimap, so every kind of row occurs.
  const width = 14;
  const height = 11;
  const { image, trimap } = texturedScene(width, height, { seed: 3, low: 0.2, spread: 0.6 }, ring);
  const epsilon = 1e-5;

  for (const preconditioner of [
    'modified-incomplete-cholesky',
    'incomplete-cholesky',
    'jacobi',
  ] as const) {
    it(`satisfies L_UU x = -L_UK alpha_K to a tight residual (${preconditioner})`, () => {
      const system = buildMattingSystem(image, trimap, width, height, epsilon);
      expect(system.pixels.length).toBe(countOf(trimap, 128));
      const solved = solveConjugateGradient(system, {
        relativeTolerance: 1e-12,
        maxIterations: 5000,
        preconditioner,
        matrixPrecision: 'float64',
      });
      expect(solved.converged).toBe(true);
      expect(solved.relativeResidual).toBeLessThan(1e-11);

      // Check against the dense Laplacian built independently from the paper's formula.
      const L = denseLaplacian(image, width, height, epsilon);
      const unknown = [...system.pixels];
      const value = (p: number) => {
        const row = system.rowOfPixel[p]!;
        return row >= 0 ? solved.solution[row]! : trimap[p] === 255 ? 1 : 0;
      };
      let residual = 0;
      let scale = 0;
      for (const i of unknown) {
        let sum = 0;
        let known = 0;
        for (let j = 0; j < width * height; j++) {
          sum += L[i]![j]! * value(j);
          if (system.rowOfPixel[j]! < 0) known += L[i]![j]! * value(j);
        }
        residual += sum * sum;
        scale += known * known;
      }
      expect(Math.sqrt(residual / scale)).toBeLessThan(1e-9);
    });
  }

  it('recovers a known alpha where the colour-line model holds exactly', () => {
    const width = 60;
    const height = 20;
    const scene = twoColourRamp(width, height);
    const result = estimateAlphaClosedForm(scene.image, scene.trimap, width, height);
    expect(result.converged).toBe(true);
    let worst = 0;
    for (let i = 0; i < scene.alpha.length; i++) {
      worst = Math.max(worst, Math.abs(result.alpha[i]! - scene.alpha[i]!));
    }
    expect(worst).toBeLessThan(0.02);
  });

  it('estimates the foreground colour under a soft edge', () => {
    const width = 60;
    const height = 20;
    const scene = twoColourRamp(width, height);
    const foreground = estimateForeground(scene.image, scene.alpha, width, height);
    let worst = 0;
    for (let i = 0; i < scene.alpha.length; i++) {
      if (scene.alpha[i]! < 0.2) continue;
      for (let c = 0; c < 3; c++) {
        worst = Math.max(worst, Math.abs(foreground[i * 3 + c]! - scene.foreground[c]!));
      }
    }
    // The picture's own colour there is up to 80% background; the estimate is the subject's.
    expect(worst).toBeLessThan(0.05);
  });
});

/** A picture with a soft-edged red disk on blue and a model-like mask (hard, slightly off). */
function diskPicture(width: number, height: number) {
  const rgb = new Uint8Array(width * height * 3);
  const mask = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const d = Math.hypot(x - width / 2, y - height / 2);
      const a = Math.min(1, Math.max(0, (height / 3 + 4 - d) / 8));
      rgb[i * 3] = Math.round(a * 220 + (1 - a) * 30);
      rgb[i * 3 + 1] = Math.round(a * 40 + (1 - a) * 80);
      rgb[i * 3 + 2] = Math.round(a * 40 + (1 - a) * 200);
      mask[i] = d < height / 3 + 2 ? 255 : 0;
    }
  }
  return { rgb, mask };
}

describe('computeMatte', () => {
  it('mattes at alpha_base_size (never larger) and returns the original size', () => {
    const { rgb, mask } = diskPicture(200, 100);
    const small = computeMatte({
      rgb,
      mask,
      width: 200,
      height: 100,
      params: { ...defaults, alpha_base_size: 64, alpha_erode: 3 },
    });
    expect([small.stats.workingWidth, small.stats.workingHeight]).toEqual([64, 32]);
    expect(small.alpha.length).toBe(200 * 100);
    expect(small.foreground.length).toBe(200 * 100 * 3);
    expect(small.stats.applied).toBe(true);
    const full = computeMatte({ rgb, mask, width: 200, height: 100, params: defaults });
    expect([full.stats.workingWidth, full.stats.workingHeight]).toEqual([200, 100]);
    expect(full.warnings).toEqual([]);
    // Inside stays opaque, far outside transparent, the soft edge becomes soft.
    expect(full.alpha[50 * 200 + 100]).toBe(255);
    expect(full.alpha[2 * 200 + 2]).toBe(0);
    const edge = 50 * 200 + 100 + Math.round(100 / 3 + 2);
    expect(full.alpha[edge]).toBeGreaterThan(30);
    expect(full.alpha[edge]).toBeLessThan(225);
  });

  it.each([
    ['no sure foreground', new Uint8Array(30 * 20), defaults],
    ['no sure background', new Uint8Array(30 * 20).fill(255), defaults],
    [
      'no unknown pixels',
      Uint8Array.from({ length: 30 * 20 }, (_, i) => (i % 30 < 15 ? 0 : 255)),
      { ...defaults, alpha_erode: 1 },
    ],
  ])('falls back to the plain mask on a trimap with %s, with a warning', (reason, mask, params) => {
    const rgb = new Uint8Array(30 * 20 * 3).fill(90);
    const result = computeMatte({ rgb, mask, width: 30, height: 20, params });
    expect(result.stats.applied).toBe(false);
    expect(result.warnings.join(' ')).toContain(reason);
    expect([...result.alpha]).toEqual([...mask]);
    expect([...result.foreground]).toEqual([...rgb]);
  });

  it('refuses inconsistent sizes and out-of-range parameters with a clear error', () => {
    const rgb = new Uint8Array(10 * 10 * 3);
    const mask = new Uint8Array(10 * 10);
    expect(() =>
      computeMatte({ rgb, mask: mask.subarray(1), width: 10, height: 10, params: defaults }),
    ).toThrow('mask has 99 bytes, expected 100');
    expect(() =>
      computeMatte({ rgb, mask, width: 10, height: 10, params: { ...defaults, alpha_erode: 0 } }),
    ).toThrow('alpha_erode must be an integer from 1 to 25');
  });
});

describe('matteImage (worker thread)', () => {
  it('mattes off the main thread: timers keep firing while it works', async () => {
    const { rgb, mask } = diskPicture(900, 700);
    const before = rgb.slice();
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const started = performance.now();
    const params = { ...defaults, alpha_erode: 3 };
    const result = await matteImage({ rgb, mask, width: 900, height: 700, params });
    const elapsed = performance.now() - started;
    clearInterval(timer);
    expect(result.stats.applied).toBe(true);
    expect(result.alpha.length).toBe(900 * 700);
    // A blocked event loop would see at most one tick after the work; this one saw many.
    expect(ticks).toBeGreaterThanOrEqual(Math.min(10, Math.floor(elapsed / 50)));
    expect(ticks).toBeGreaterThan(2);
    // The caller's arrays are neither detached nor changed.
    expect(rgb.length).toBe(900 * 700 * 3);
    expect(Buffer.compare(Buffer.from(rgb), Buffer.from(before))).toBe(0);
  });

  it('plugs into the video pipeline as its per-frame mask refiner', async () => {
    const warnings: string[] = [];
    const refine: MaskRefiner = mattingFrameHook({ ...defaults, alpha_erode: 3 }, (warning) =>
      warnings.push(warning),
    );
    const { rgb, mask } = diskPicture(160, 90);
    const alpha = await refine(Buffer.from(rgb), Buffer.from(mask), 160, 90);
    expect(alpha.length).toBe(160 * 90);
    expect(Buffer.compare(alpha, Buffer.from(mask))).not.toBe(0); // the edge was re-estimated
    expect(warnings).toEqual([]);
    await refine(Buffer.alloc(160 * 90 * 3), Buffer.alloc(160 * 90), 160, 90);
    expect(warnings.join(' ')).toContain('no sure foreground');
  });

  it('reports bad input as a rejected promise, and keeps working afterwards', async () => {
    await expect(
      matteImage({
        rgb: new Uint8Array(5),
        mask: new Uint8Array(4),
        width: 2,
        height: 2,
        params: defaults,
      }),
    ).rejects.toThrow('expected 12 RGB bytes and 4 mask bytes');
    await expect(
      matteImage({
        rgb: new Uint8Array(12),
        mask: new Uint8Array(4),
        width: 2,
        height: 2,
        params: { ...defaults, alpha_fg: 300 },
      }),
    ).rejects.toThrow('alpha_fg must be an integer from 0 to 255');
    const { rgb, mask } = diskPicture(60, 40);
    const params = { ...defaults, alpha_erode: 2 };
    const ok = await matteImage({ rgb, mask, width: 60, height: 40, params });
    expect(ok.alpha.length).toBe(60 * 40);
  });
});
