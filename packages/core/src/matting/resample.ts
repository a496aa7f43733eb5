/**
 * Resampling for the matting's working size: area averaging to shrink (no aliasing of thin
 * strands into noise) and bilinear interpolation to enlarge, on interleaved channels.
 */

/**
 * Resamples an interleaved picture of `sourceWidth` x `sourceHeight` pixels (`channels` values
 * each) to `width` x `height`, returning floats on the input's scale.
 */
export type Resample = (...args: ResampleArgs) => Float32Array;

/** `Resample`'s arguments: the source, its size, the target size, and values per pixel. */
export type ResampleArgs = [
  source: ArrayLike<number>,
  sourceWidth: number,
  sourceHeight: number,
  width: number,
  height: number,
  channels: number,
];

/**
 * Shrinks an interleaved picture by area averaging: each output pixel is the mean of the input
 * area it covers, with fractional weights at its edges. Output values are floats on the
 * input's scale.
 */
export const shrinkByArea: Resample = (source, inWidth, inHeight, width, height, channels) => {
  if (width > inWidth || height > inHeight) {
    throw new Error('shrinkByArea: the target is larger than the source');
  }
  const columns = areaWeights(inWidth, width);
  const rows = areaWeights(inHeight, height);
  // Horizontal pass into a (width x inHeight) buffer, then vertical.
  const horizontal = new Float32Array(width * inHeight * channels);
  for (let y = 0; y < inHeight; y++) {
    const sourceRow = y * inWidth * channels;
    const targetRow = y * width * channels;
    for (let x = 0; x < width; x++) {
      const { first, weights } = columns[x]!;
      for (let c = 0; c < channels; c++) {
        let sum = 0;
        for (let k = 0; k < weights.length; k++) {
          sum += weights[k]! * source[sourceRow + (first + k) * channels + c]!;
        }
        horizontal[targetRow + x * channels + c] = sum;
      }
    }
  }
  const result = new Float32Array(width * height * channels);
  const rowLength = width * channels;
  for (let y = 0; y < height; y++) {
    const { first, weights } = rows[y]!;
    const target = y * rowLength;
    for (let k = 0; k < weights.length; k++) {
      const weight = weights[k]!;
      const from = (first + k) * rowLength;
      for (let i = 0; i < rowLength; i++) result[target + i]! += weight * horizontal[from + i]!;
    }
  }
  return result;
};

/** For each output index, the first input index it covers and the normalised weights. */
function areaWeights(
  sourceLength: number,
  length: number,
): { first: number; weights: Float64Array }[] {
  const scale = sourceLength / length;
  const result: { first: number; weights: Float64Array }[] = [];
  for (let i = 0; i < length; i++) {
    const start = i * scale;
    const end = Math.min(sourceLength, (i + 1) * scale);
    const first = Math.floor(start);
    const last = Math.min(sourceLength - 1, Math.ceil(end) - 1);
    const weights = new Float64Array(last - first + 1);
    for (let k = first; k <= last; k++) {
      weights[k - first] = (Math.min(end, k + 1) - Math.max(start, k)) / scale;
    }
    result.push({ first, weights });
  }
  return result;
}

/**
 * Enlarges an interleaved float picture with bilinear interpolation, pixel centres aligned
 * (edges clamp). Returns floats on the input's scale.
 */
export const enlargeBilinear: Resample = (...args) => {
  const [, , , width, height, channels] = args;
  const result = new Float32Array(width * height * channels);
  enlargeBilinearRows(...args, (y, row) => result.set(row, y * width * channels));
  return result;
};

/**
 * `enlargeBilinear` one output row at a time (the same values), handed to `visit` in a buffer
 * reused for every row: enlarging to a 49 MP picture then needs no full-size float array.
 */
export function enlargeBilinearRows(
  ...args: [...ResampleArgs, visit: (y: number, row: Float32Array) => void]
): void {
  const [source, sourceWidth, sourceHeight, width, height, channels, visit] = args;
  const row = new Float32Array(width * channels);
  const x0 = new Int32Array(width);
  const x1 = new Int32Array(width);
  const fx = new Float32Array(width);
  for (let x = 0; x < width; x++) {
    const position = Math.max(0, ((x + 0.5) * sourceWidth) / width - 0.5);
    const left = Math.min(sourceWidth - 1, Math.floor(position));
    x0[x] = left;
    x1[x] = Math.min(sourceWidth - 1, left + 1);
    fx[x] = position - left;
  }
  for (let y = 0; y < height; y++) {
    const position = Math.max(0, ((y + 0.5) * sourceHeight) / height - 0.5);
    const top = Math.min(sourceHeight - 1, Math.floor(position));
    const bottom = Math.min(sourceHeight - 1, top + 1);
    const fy = position - top;
    const topRow = top * sourceWidth;
    const bottomRow = bottom * sourceWidth;
    for (let x = 0; x < width; x++) {
      const wx = fx[x]!;
      const a = (topRow + x0[x]!) * channels;
      const b = (topRow + x1[x]!) * channels;
      const c = (bottomRow + x0[x]!) * channels;
      const d = (bottomRow + x1[x]!) * channels;
      const target = x * channels;
      for (let k = 0; k < channels; k++) {
        const upper = source[a + k]! + (source[b + k]! - source[a + k]!) * wx;
        const lower = source[c + k]! + (source[d + k]! - source[c + k]!) * wx;
        row[target + k] = upper + (lower - upper) * fy;
      }
    }
    visit(y, row);
  }
}
