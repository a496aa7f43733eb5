/**
 * The whole matting step on one picture, synchronously (the worker thread runs this): working
 * size, trimap, closed-form alpha, foreground colour, back to the original size.
 */

import { performance } from 'node:perf_hooks';
import { defaultClosedFormOptions, estimateAlphaClosedForm } from './closed-form.js';
import { estimateForeground } from './foreground.js';
import { enlargeBilinearRows, shrinkByArea } from './resample.js';
import { buildTrimap } from './trimap.js';

/** The protocol's matting parameters (the same names in image and video requests). */
export interface MattingParams {
  /** Mask values above this are sure foreground (0..255). */
  alpha_fg: number;
  /** Mask values below this are sure background (0..255). */
  alpha_bg: number;
  /** Side of the square kernel both sure regions are eroded by (pixels at the working size). */
  alpha_erode: number;
  /** The picture is shrunk (never enlarged) so its longer side is at most this before matting. */
  alpha_base_size: number;
}

export interface MatteInput {
  /** Packed RGB, 3 bytes per pixel, row-major. */
  rgb: Uint8Array;
  width: number;
  height: number;
  /** The model's mask at the picture's size, 1 byte per pixel. */
  mask: Uint8Array;
  params: MattingParams;
  /**
   * Most pixels to matte at (MAX_MATTING_PIXELS; default `MAX_MATTING_PIXELS`, the hard
   * ceiling): a larger working size (from alpha_base_size) is lowered to fit, with a warning.
   */
  maxPixels?: number | undefined;
}

/** What the matting did, for logs, benchmarks and reports. */
export interface MatteStats {
  /** False when it fell back to the plain mask (see the warnings). */
  applied: boolean;
  workingWidth: number;
  workingHeight: number;
  unknownPixels: number;
  iterations: number;
  relativeResidual: number;
  milliseconds: { resize: number; trimap: number; alpha: number; foreground: number };
}

export interface MatteOutput {
  /** Alpha at the picture's size, 1 byte per pixel. */
  alpha: Uint8Array<ArrayBuffer>;
  /** Straight (not premultiplied) foreground colour at the picture's size, packed RGB. */
  foreground: Uint8Array<ArrayBuffer>;
  warnings: string[];
  stats: MatteStats;
}

/** Above this many pixels at the working size, matting runs at a smaller size (with a warning). */
export const MAX_MATTING_PIXELS = 16_000_000;
/**
 * Above this many unknown pixels (about 600 bytes each in the solver, and minutes of CPU) the
 * matting is skipped with a warning that names the parameters to lower.
 */
export const MAX_UNKNOWN_PIXELS = 4_000_000;

/**
 * Mattes one picture: shrinks it to `alpha_base_size` (never enlarges), builds the trimap from
 * the mask, estimates alpha on the unknown band by closed-form matting and the foreground colour
 * by the multilevel method, then scales both back: alpha by bilinear interpolation, colour as
 * the picture's own colour plus the enlarged correction (so detail inside the subject stays
 * sharp and only the edges change). A trimap with no sure foreground, no sure background or
 * nothing unknown gives the plain mask and the picture's own colour, with a warning.
 */
export function computeMatte(input: MatteInput): MatteOutput {
  const { rgb, width, height, mask, params } = input;
  validateInput(input);
  const warnings: string[] = [];
  const started = performance.now();

  const maxPixels = Math.min(input.maxPixels ?? MAX_MATTING_PIXELS, MAX_MATTING_PIXELS);
  let scale = Math.min(1, params.alpha_base_size / Math.max(width, height));
  if (width * height * scale * scale > maxPixels) {
    const limited = Math.sqrt(maxPixels / (width * height));
    warnings.push(
      `alpha_base_size=${params.alpha_base_size} would matte ${((width * height * scale * scale) / 1e6).toFixed(1)} MP, over the ${maxPixels / 1e6} MP matting limit (MAX_MATTING_PIXELS); matted at ${Math.round(Math.max(width, height) * limited)} px on the longer side instead`,
    );
    scale = limited;
  }
  const workingWidth = Math.max(1, Math.round(width * scale));
  const workingHeight = Math.max(1, Math.round(height * scale));
  const scaled = workingWidth !== width || workingHeight !== height;
  const image = scaled
    ? shrinkByArea(rgb, width, height, workingWidth, workingHeight, 3)
    : new Float32Array(rgb.length);
  const source = scaled ? image : rgb;
  for (let i = 0; i < image.length; i++) image[i] = source[i]! / 255;
  const workingMask = scaled
    ? roundToBytes(shrinkByArea(mask, width, height, workingWidth, workingHeight, 1))
    : mask;
  const resized = performance.now();

  const trimap = buildTrimap(workingMask, workingWidth, workingHeight, {
    foregroundThreshold: params.alpha_fg,
    backgroundThreshold: params.alpha_bg,
    erodeSize: params.alpha_erode,
  });
  const trimapDone = performance.now();
  const stats: MatteStats = {
    applied: false,
    workingWidth,
    workingHeight,
    unknownPixels: trimap.unknownCount,
    iterations: 0,
    relativeResidual: 0,
    milliseconds: {
      resize: resized - started,
      trimap: trimapDone - resized,
      alpha: 0,
      foreground: 0,
    },
  };
  // The solver's memory grows with the unknown band (about 600 bytes a pixel): at most half the
  // matting limit's pixels, so MAX_MATTING_PIXELS bounds it too.
  const maxUnknown = Math.min(MAX_UNKNOWN_PIXELS, Math.ceil(maxPixels / 2));
  const degenerate = describeDegenerateTrimap(
    trimap,
    workingWidth,
    workingHeight,
    params,
    maxUnknown,
  );
  if (degenerate) {
    warnings.push(`alpha_matting was not applied: ${degenerate}; the result uses the plain mask`);
    return { alpha: mask.slice(), foreground: rgb.slice(), warnings, stats };
  }

  const initialAlpha = new Float32Array(workingMask.length);
  for (let i = 0; i < initialAlpha.length; i++) initialAlpha[i] = workingMask[i]! / 255;
  const solved = estimateAlphaClosedForm(image, trimap.values, workingWidth, workingHeight, {
    ...defaultClosedFormOptions,
    initialAlpha,
  });
  const alphaDone = performance.now();
  if (!solved.converged) {
    warnings.push(
      `alpha_matting: the solver stopped after ${solved.iterations} iterations with relative residual ${solved.relativeResidual.toExponential(1)}; edges may be less accurate than usual`,
    );
  }
  const foreground = estimateForeground(image, solved.alpha, workingWidth, workingHeight);
  const foregroundDone = performance.now();

  const output = scaled
    ? enlargeResult(
        rgb,
        width,
        height,
        image,
        solved.alpha,
        foreground,
        workingWidth,
        workingHeight,
      )
    : { alpha: roundToBytes(solved.alpha, 255), foreground: roundToBytes(foreground, 255) };
  const finished = performance.now();
  stats.applied = true;
  stats.iterations = solved.iterations;
  stats.relativeResidual = solved.relativeResidual;
  stats.milliseconds.alpha = alphaDone - trimapDone;
  stats.milliseconds.foreground = foregroundDone - alphaDone;
  stats.milliseconds.resize += finished - foregroundDone;
  return { ...output, warnings, stats };
}

function validateInput({ rgb, width, height, mask, params }: MatteInput): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new Error(`computeMatte: bad picture size ${width}x${height}`);
  }
  if (rgb.length !== width * height * 3) {
    throw new Error(`computeMatte: rgb has ${rgb.length} bytes, expected ${width * height * 3}`);
  }
  if (mask.length !== width * height) {
    throw new Error(`computeMatte: mask has ${mask.length} bytes, expected ${width * height}`);
  }
  const { alpha_fg, alpha_bg, alpha_erode, alpha_base_size } = params;
  const checks: [string, number, number, number][] = [
    ['alpha_fg', alpha_fg, 0, 255],
    ['alpha_bg', alpha_bg, 0, 255],
    ['alpha_erode', alpha_erode, 1, 25],
    ['alpha_base_size', alpha_base_size, 32, 8192],
  ];
  for (const [name, value, low, high] of checks) {
    if (!Number.isInteger(value) || value < low || value > high) {
      throw new Error(
        `computeMatte: ${name} must be an integer from ${low} to ${high} (got ${value})`,
      );
    }
  }
}

function describeDegenerateTrimap(
  trimap: { foregroundCount: number; backgroundCount: number; unknownCount: number },
  width: number,
  height: number,
  params: MattingParams,
  maxUnknown: number,
): string | undefined {
  if (width < 3 || height < 3) return `the picture is too small to matte (${width}x${height})`;
  if (trimap.foregroundCount === 0) {
    return `the mask has no sure foreground (no value above alpha_fg=${params.alpha_fg} survives an erosion of ${params.alpha_erode} px)`;
  }
  if (trimap.backgroundCount === 0) {
    return `the mask has no sure background (no value below alpha_bg=${params.alpha_bg} survives an erosion of ${params.alpha_erode} px)`;
  }
  if (trimap.unknownCount === 0) return 'the trimap has no unknown pixels to solve';
  if (trimap.unknownCount > maxUnknown) {
    return `its unknown band has ${trimap.unknownCount} pixels, over the ${maxUnknown} it handles (half of MAX_MATTING_PIXELS; lower alpha_base_size or alpha_erode)`;
  }
  return undefined;
}

/**
 * Scales the working-size matte back: alpha bilinear; colour = the full picture's own colour
 * plus the enlarged difference between estimated foreground and working picture.
 */
function enlargeResult(
  rgb: Uint8Array,
  width: number,
  height: number,
  image: Float32Array,
  alpha: Float32Array,
  foreground: Float32Array,
  workingWidth: number,
  workingHeight: number,
): { alpha: Uint8Array<ArrayBuffer>; foreground: Uint8Array<ArrayBuffer> } {
  // Row by row into bytes: no full-size float arrays (0.8 GB for a 49 MP picture).
  const bigAlpha = new Uint8Array(width * height);
  enlargeBilinearRows(alpha, workingWidth, workingHeight, width, height, 1, (y, row) => {
    bigAlpha.set(roundToBytes(row, 255), y * width);
  });
  const correction = new Float32Array(foreground.length);
  for (let i = 0; i < correction.length; i++) correction[i] = foreground[i]! - image[i]!;
  const colour = new Uint8Array(rgb.length);
  enlargeBilinearRows(correction, workingWidth, workingHeight, width, height, 3, (y, row) => {
    const offset = y * width * 3;
    for (let i = 0; i < row.length; i++) {
      const value = rgb[offset + i]! + row[i]! * 255;
      colour[offset + i] = value <= 0 ? 0 : value >= 255 ? 255 : Math.round(value);
    }
  });
  return { alpha: bigAlpha, foreground: colour };
}

/** Rounds floats to bytes after multiplying by `scale`, clamping to 0..255. */
function roundToBytes(values: Float32Array, scale = 1): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const value = values[i]! * scale;
    bytes[i] = value <= 0 ? 0 : value >= 255 ? 255 : Math.round(value);
  }
  return bytes;
}
