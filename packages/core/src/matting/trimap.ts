/**
 * The trimap alpha matting starts from: sure foreground, sure background and the unknown band
 * between them, built from a model's mask as rembg and backgroundremover build it.
 */

/** Trimap value of a sure-background pixel. */
export const TRIMAP_BACKGROUND = 0;
/** Trimap value of a pixel whose alpha the matting solves for. */
export const TRIMAP_UNKNOWN = 128;
/** Trimap value of a sure-foreground pixel. */
export const TRIMAP_FOREGROUND = 255;

export interface TrimapOptions {
  /** Mask values above this are foreground (before erosion). */
  foregroundThreshold: number;
  /** Mask values below this are background (before erosion). */
  backgroundThreshold: number;
  /** Side of the square erosion kernel, in pixels (1 = no erosion). */
  erodeSize: number;
}

export interface Trimap {
  /** One byte per pixel: TRIMAP_BACKGROUND, TRIMAP_UNKNOWN or TRIMAP_FOREGROUND. */
  values: Uint8Array;
  foregroundCount: number;
  backgroundCount: number;
  unknownCount: number;
}

/**
 * Builds the trimap of a 0..255 mask: foreground = mask > foregroundThreshold, background =
 * mask < backgroundThreshold, each eroded by a square erodeSize x erodeSize kernel (the
 * foreground erosion treats outside the picture as not foreground, the background erosion
 * treats it as background, as scipy's binary_erosion with border_value 0 and 1 does); every
 * other pixel is unknown.
 */
export function buildTrimap(
  mask: Uint8Array,
  width: number,
  height: number,
  options: TrimapOptions,
): Trimap {
  if (mask.length !== width * height) {
    throw new Error(`buildTrimap: mask has ${mask.length} values for ${width}x${height}`);
  }
  const { foregroundThreshold, backgroundThreshold, erodeSize } = options;
  if (!Number.isInteger(erodeSize) || erodeSize < 1) {
    throw new Error(`buildTrimap: erodeSize must be a positive integer (got ${erodeSize})`);
  }
  const isForeground = new Uint8Array(mask.length);
  const isBackground = new Uint8Array(mask.length);
  for (let i = 0; i < mask.length; i++) {
    const value = mask[i]!;
    if (value > foregroundThreshold) isForeground[i] = 1;
    if (value < backgroundThreshold) isBackground[i] = 1;
  }
  const foreground = erodeSquare(isForeground, width, height, erodeSize, false);
  const background = erodeSquare(isBackground, width, height, erodeSize, true);
  const values = new Uint8Array(mask.length).fill(TRIMAP_UNKNOWN);
  let foregroundCount = 0;
  let backgroundCount = 0;
  for (let i = 0; i < values.length; i++) {
    if (foreground[i]) {
      values[i] = TRIMAP_FOREGROUND;
      foregroundCount++;
    } else if (background[i]) {
      values[i] = TRIMAP_BACKGROUND;
      backgroundCount++;
    }
  }
  return {
    values,
    foregroundCount,
    backgroundCount,
    unknownCount: values.length - foregroundCount - backgroundCount,
  };
}

/**
 * Binary erosion of a 0/1 image by a size x size square: a pixel stays 1 only when every pixel
 * of the square window at offsets -floor(size/2) .. size-1-floor(size/2) is 1. Pixels outside
 * the picture count as `outsideValue`. Separable (rows, then columns), each pass a sliding
 * count of the zeros in the window, so linear in the pixel count whatever the kernel size; the
 * column pass keeps one count per column and walks the rows in memory order.
 */
export function erodeSquare(
  binary: Uint8Array,
  width: number,
  height: number,
  size: number,
  outsideValue: boolean,
): Uint8Array {
  if (size <= 1) return binary.slice();
  const before = Math.floor(size / 2);
  const after = size - 1 - before;
  const outsideZero = outsideValue ? 0 : 1;
  // Rows: zeros[x] counts the zeros of the window centred (by the offsets above) on x.
  const rows = new Uint8Array(binary.length);
  for (let y = 0; y < height; y++) {
    const start = y * width;
    let zeros = 0;
    for (let x = -before; x <= after; x++) {
      zeros += x < 0 || x >= width ? outsideZero : 1 - binary[start + x]!;
    }
    for (let x = 0; x < width; x++) {
      rows[start + x] = zeros === 0 ? 1 : 0;
      const entering = x + after + 1;
      const leaving = x - before;
      zeros +=
        (entering >= width ? outsideZero : 1 - binary[start + entering]!) -
        (leaving < 0 ? outsideZero : 1 - binary[start + leaving]!);
    }
  }
  // Columns, all at once: one running count per column, updated a row at a time.
  const zeros = new Int32Array(width);
  for (let y = -before; y <= after; y++) addRow(zeros, rows, y, width, height, outsideZero, 1);
  const result = new Uint8Array(binary.length);
  for (let y = 0; y < height; y++) {
    const start = y * width;
    for (let x = 0; x < width; x++) result[start + x] = zeros[x] === 0 ? 1 : 0;
    addRow(zeros, rows, y + after + 1, width, height, outsideZero, 1);
    addRow(zeros, rows, y - before, width, height, outsideZero, -1);
  }
  return result;
}

/** Adds `sign` times the zeros of row `y` of a 0/1 image (outside rows: `outsideZero`). */
function addRow(
  zeros: Int32Array,
  binary: Uint8Array,
  y: number,
  width: number,
  height: number,
  outsideZero: number,
  sign: number,
): void {
  if (y < 0 || y >= height) {
    if (outsideZero) for (let x = 0; x < width; x++) zeros[x]! += sign;
    return;
  }
  const start = y * width;
  for (let x = 0; x < width; x++) zeros[x]! += sign * (1 - binary[start + x]!);
}
