/**
 * Foreground colour estimation with the multilevel method of Germer, Uelwer, Conrad and Harmeling
 * (2020), the method of pymatting's estimate_foreground_ml: given a picture I and its alpha, find
 * foreground F and background B with I = alpha F + (1 - alpha) B that vary smoothly where alpha
 * does not, solved coarse to fine so that colour spreads over long distances cheaply.
 */

import type { Resample } from './resample.js';

export interface ForegroundOptions {
  /** Weight keeping F and B smooth everywhere (pymatting: 1e-5). */
  regularization: number;
  /** Weight keeping them smooth where alpha changes (pymatting: 1). */
  gradientWeight: number;
  /** Sweeps per level while the level is at most `smallSize` on both sides (pymatting: 10). */
  smallIterations: number;
  /** Sweeps per larger level (pymatting: 2). */
  bigIterations: number;
  smallSize: number;
}

export const defaultForegroundOptions: ForegroundOptions = {
  regularization: 1e-5,
  gradientWeight: 1,
  smallIterations: 10,
  bigIterations: 2,
  smallSize: 32,
};

/**
 * Estimates the foreground colour (RGB in 0..1, interleaved, straight: not multiplied by alpha)
 * of every pixel of `image` (RGB in 0..1) with alpha `alpha` (0..1).
 */
export function estimateForeground(
  image: Float32Array,
  alpha: Float32Array,
  width: number,
  height: number,
  options: ForegroundOptions = defaultForegroundOptions,
): Float32Array {
  if (image.length !== width * height * 3 || alpha.length !== width * height) {
    throw new Error('estimateForeground: image, alpha and size disagree');
  }
  const levels = Math.max(1, Math.ceil(Math.log2(Math.max(width, height))));
  // Start from the picture's mean colour at 1x1, for both layers.
  let previousWidth = 1;
  let previousHeight = 1;
  const mean = meanColour(image);
  let foreground: Float32Array = Float32Array.from(mean);
  let background: Float32Array = Float32Array.from(mean);
  for (let level = 0; level <= levels; level++) {
    const levelWidth = level === levels ? width : Math.round(width ** (level / levels));
    const levelHeight = level === levels ? height : Math.round(height ** (level / levels));
    const levelImage =
      level === levels ? image : resizeNearest(image, width, height, levelWidth, levelHeight, 3);
    const levelAlpha =
      level === levels ? alpha : resizeNearest(alpha, width, height, levelWidth, levelHeight, 1);
    foreground = resizeNearest(
      foreground,
      previousWidth,
      previousHeight,
      levelWidth,
      levelHeight,
      3,
    );
    background = resizeNearest(
      background,
      previousWidth,
      previousHeight,
      levelWidth,
      levelHeight,
      3,
    );
    const small = levelWidth <= options.smallSize && levelHeight <= options.smallSize;
    const sweeps = small ? options.smallIterations : options.bigIterations;
    for (let sweep = 0; sweep < sweeps; sweep++) {
      relaxLevel(levelImage, levelAlpha, foreground, background, levelWidth, levelHeight, options);
    }
    previousWidth = levelWidth;
    previousHeight = levelHeight;
  }
  return foreground;
}

/**
 * One Gauss-Seidel sweep: each pixel's F and B solve the 2x2 least-squares system of the
 * compositing equation plus smoothness towards its four neighbours, weighted by how much alpha
 * changes between them; results are clipped to 0..1.
 */
function relaxLevel(
  image: Float32Array,
  alpha: Float32Array,
  foreground: Float32Array,
  background: Float32Array,
  width: number,
  height: number,
  options: ForegroundOptions,
): void {
  const { regularization, gradientWeight } = options;
  const f = foreground;
  const b = background;
  for (let y = 0; y < height; y++) {
    const up = y > 0 ? -width : 0;
    const down = y < height - 1 ? width : 0;
    for (let x = 0; x < width; x++) {
      const pixel = y * width + x;
      const a0 = alpha[pixel]!;
      const a1 = 1 - a0;
      const offset = pixel * 3;
      // The four neighbours (left, right, up, down; the pixel itself at the picture's edge),
      // unrolled: each pulls F and B towards its own, weighted by the change in alpha.
      const n0 = pixel + (x > 0 ? -1 : 0);
      const n1 = pixel + (x < width - 1 ? 1 : 0);
      const n2 = pixel + up;
      const n3 = pixel + down;
      const w0 = regularization + gradientWeight * Math.abs(a0 - alpha[n0]!);
      const w1 = regularization + gradientWeight * Math.abs(a0 - alpha[n1]!);
      const w2 = regularization + gradientWeight * Math.abs(a0 - alpha[n2]!);
      const w3 = regularization + gradientWeight * Math.abs(a0 - alpha[n3]!);
      const o0 = n0 * 3;
      const o1 = n1 * 3;
      const o2 = n2 * 3;
      const o3 = n3 * 3;
      const red = image[offset]!;
      const green = image[offset + 1]!;
      const blue = image[offset + 2]!;
      const fr = a0 * red + w0 * f[o0]! + w1 * f[o1]! + w2 * f[o2]! + w3 * f[o3]!;
      const fg = a0 * green + w0 * f[o0 + 1]! + w1 * f[o1 + 1]! + w2 * f[o2 + 1]! + w3 * f[o3 + 1]!;
      const fb = a0 * blue + w0 * f[o0 + 2]! + w1 * f[o1 + 2]! + w2 * f[o2 + 2]! + w3 * f[o3 + 2]!;
      const br = a1 * red + w0 * b[o0]! + w1 * b[o1]! + w2 * b[o2]! + w3 * b[o3]!;
      const bg = a1 * green + w0 * b[o0 + 1]! + w1 * b[o1 + 1]! + w2 * b[o2 + 1]! + w3 * b[o3 + 1]!;
      const bb = a1 * blue + w0 * b[o0 + 2]! + w1 * b[o1 + 2]! + w2 * b[o2 + 2]! + w3 * b[o3 + 2]!;
      const weights = w0 + w1 + w2 + w3;
      const a00 = a0 * a0 + weights;
      const a01 = a0 * a1;
      const a11 = a1 * a1 + weights;
      const inverseDeterminant = 1 / (a00 * a11 - a01 * a01);
      const m00 = a11 * inverseDeterminant;
      const m01 = -a01 * inverseDeterminant;
      const m11 = a00 * inverseDeterminant;
      f[offset] = clamp01(m00 * fr + m01 * br);
      f[offset + 1] = clamp01(m00 * fg + m01 * bg);
      f[offset + 2] = clamp01(m00 * fb + m01 * bb);
      b[offset] = clamp01(m01 * fr + m11 * br);
      b[offset + 1] = clamp01(m01 * fg + m11 * bg);
      b[offset + 2] = clamp01(m01 * fb + m11 * bb);
    }
  }
}

function clamp01(value: number): number {
  return value < 0 ? 0 : Math.min(value, 1);
}

function meanColour(image: Float32Array): [number, number, number] {
  let red = 0;
  let green = 0;
  let blue = 0;
  const pixels = image.length / 3;
  for (let i = 0; i < image.length; i += 3) {
    red += image[i]!;
    green += image[i + 1]!;
    blue += image[i + 2]!;
  }
  return pixels > 0 ? [red / pixels, green / pixels, blue / pixels] : [0, 0, 0];
}

/** Nearest-neighbour resize of an interleaved float picture (pixel centres aligned). */
const resizeNearest: Resample = (source, sourceWidth, sourceHeight, width, height, channels) => {
  const result = new Float32Array(width * height * channels);
  const columns = new Int32Array(width);
  for (let x = 0; x < width; x++) {
    columns[x] =
      Math.min(sourceWidth - 1, Math.floor(((x + 0.5) * sourceWidth) / width)) * channels;
  }
  const rowLength = width * channels;
  let previousY = -1;
  for (let y = 0; y < height; y++) {
    const sourceY = Math.min(sourceHeight - 1, Math.floor(((y + 0.5) * sourceHeight) / height));
    const target = y * rowLength;
    if (sourceY === previousY) {
      // Enlarging: this row repeats the one above.
      result.copyWithin(target, target - rowLength, target);
      continue;
    }
    previousY = sourceY;
    const sourceRow = sourceY * sourceWidth * channels;
    if (channels === 3) {
      for (let x = 0; x < width; x++) {
        const from = sourceRow + columns[x]!;
        const to = target + x * 3;
        result[to] = source[from]!;
        result[to + 1] = source[from + 1]!;
        result[to + 2] = source[from + 2]!;
      }
    } else {
      for (let x = 0; x < width; x++) {
        const from = sourceRow + columns[x]!;
        for (let c = 0; c < channels; c++) result[target + x * channels + c] = source[from + c]!;
      }
    }
  }
  return result;
};
