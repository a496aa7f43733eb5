/**
 * The closed-form matting Laplacian (Levin, Lischinski and Weiss 2008) with 3x3 windows,
 * restricted to the trimap's unknown pixels: the linear system L_UU alpha_U = -L_UK alpha_K whose
 * solution is the matte. Known pixels are hard constraints (alpha 1 for foreground, 0 for
 * background) and move to the right-hand side, so the system has one row per unknown pixel.
 */

import { heapMemory, kernelMemory, type SolverMemory } from './solver-memory.js';
import {
  STENCIL_SIDE,
  STENCIL_SIZE,
  stencilPosition,
  UPPER_STENCIL_SIZE,
} from './stencil-layout.js';
import { TRIMAP_BACKGROUND, TRIMAP_FOREGROUND } from './trimap.js';

export { STENCIL_SIDE, STENCIL_SIZE, UPPER_STENCIL_SIZE };

/** Stencil position of window pixel b relative to window pixel a, indexed a * 9 + b. */
const PAIR_POSITION = Uint8Array.from({ length: 81 }, (_, index) => {
  const a = Math.floor(index / 9);
  const b = index % 9;
  const dx = (b % 3) - (a % 3);
  const dy = Math.floor(b / 3) - Math.floor(a / 3);
  return stencilPosition(dx, dy);
});

/**
 * A sparse symmetric positive-definite system in stencil form. Row `r` is the unknown pixel
 * `pixels[r]`; `coefficients[r * 25 + (dy + 2) * 5 + (dx + 2)]` multiplies the unknown at
 * offset (dx, dy) from it (zero where that pixel is known or outside the picture).
 */
export interface StencilSystem {
  width: number;
  height: number;
  /** Pixel index (y * width + x) of each row's unknown. */
  pixels: Int32Array;
  /** Row index of each pixel, -1 for known pixels. */
  rowOfPixel: Int32Array;
  coefficients: Float64Array;
  rightHandSide: Float64Array;
}

/**
 * Builds L_UU and -L_UK alpha_K for an RGB picture with values in 0..1 (interleaved, 3 per
 * pixel) and a trimap. Only 3x3 windows lying wholly inside the picture and touching an unknown
 * pixel are visited. `epsilon` regularises each window's colour covariance (Levin's epsilon,
 * added as epsilon / 9 to its diagonal).
 */
export function buildMattingSystem(
  image: Float32Array,
  trimap: Uint8Array,
  width: number,
  height: number,
  epsilon: number,
): StencilSystem {
  const pixelCount = width * height;
  if (image.length !== pixelCount * 3 || trimap.length !== pixelCount) {
    throw new Error('buildMattingSystem: image, trimap and size disagree');
  }
  const rowOfPixel = new Int32Array(pixelCount).fill(-1);
  let rows = 0;
  for (let i = 0; i < pixelCount; i++) {
    const value = trimap[i];
    if (value !== TRIMAP_FOREGROUND && value !== TRIMAP_BACKGROUND) rowOfPixel[i] = rows++;
  }
  const pixels = new Int32Array(rows);
  for (let i = 0; i < pixelCount; i++) {
    const row = rowOfPixel[i]!;
    if (row >= 0) pixels[row] = i;
  }
  const coefficients = new Float64Array(rows * STENCIL_SIZE);
  const rightHandSide = new Float64Array(rows);
  if (width < 3 || height < 3) {
    return { width, height, pixels, rowOfPixel, coefficients, rightHandSide };
  }

  // Window centres whose 3x3 window lies inside the picture and holds an unknown pixel.
  const isCentre = new Uint8Array(pixelCount);
  for (let row = 0; row < rows; row++) {
    const pixel = pixels[row]!;
    const x = pixel % width;
    const y = (pixel - x) / width;
    for (let cy = Math.max(1, y - 1); cy <= Math.min(height - 2, y + 1); cy++) {
      for (let cx = Math.max(1, x - 1); cx <= Math.min(width - 2, x + 1); cx++) {
        isCentre[cy * width + cx] = 1;
      }
    }
  }

  const scratch: WindowScratch = {
    pixels: new Int32Array(9),
    rows: new Int32Array(9),
    foreground: new Uint8Array(9),
    deviations: new Float64Array(27),
    weighted: new Float64Array(27),
  };
  const system = { width, height, pixels, rowOfPixel, coefficients, rightHandSide };
  const regularisation = epsilon / 9;
  for (let centre = 0; centre < pixelCount; centre++) {
    if (isCentre[centre]) {
      addWindow(centre, image, trimap, width, regularisation, system, scratch);
    }
  }
  return system;
}

/** Per-window scratch of `addWindow`. */
interface WindowScratch {
  pixels: Int32Array;
  /** Row of each window pixel, -1 when known. */
  rows: Int32Array;
  foreground: Uint8Array;
  /** Colour minus the window's mean, per window pixel. */
  deviations: Float64Array;
  /** Inverse covariance times deviation, per window pixel. */
  weighted: Float64Array;
}

/**
 * Adds the 3x3 window centred on `centre` to the system: its block of the Laplacian to the
 * rows of its unknown pixels, and its known foreground pixels' share to their right-hand side.
 */
function addWindow(
  centre: number,
  image: Float32Array,
  trimap: Uint8Array,
  width: number,
  regularisation: number,
  system: StencilSystem,
  scratch: WindowScratch,
): void {
  const { rowOfPixel, coefficients, rightHandSide } = system;
  const {
    pixels: windowPixels,
    rows: windowRows,
    foreground: windowForeground,
    deviations,
    weighted,
  } = scratch;
  let meanR = 0;
  let meanG = 0;
  let meanB = 0;
  for (let k = 0; k < 9; k++) {
    const pixel = centre + ((k / 3) | 0) * width - width + (k % 3) - 1;
    windowPixels[k] = pixel;
    windowRows[k] = rowOfPixel[pixel]!;
    windowForeground[k] = trimap[pixel] === TRIMAP_FOREGROUND ? 1 : 0;
    meanR += image[pixel * 3]!;
    meanG += image[pixel * 3 + 1]!;
    meanB += image[pixel * 3 + 2]!;
  }
  meanR /= 9;
  meanG /= 9;
  meanB /= 9;
  let rr = 0;
  let rg = 0;
  let rb = 0;
  let gg = 0;
  let gb = 0;
  let bb = 0;
  for (let k = 0; k < 9; k++) {
    const pixel = windowPixels[k]!;
    const r = image[pixel * 3]! - meanR;
    const g = image[pixel * 3 + 1]! - meanG;
    const b = image[pixel * 3 + 2]! - meanB;
    deviations[k * 3] = r;
    deviations[k * 3 + 1] = g;
    deviations[k * 3 + 2] = b;
    rr += r * r;
    rg += r * g;
    rb += r * b;
    gg += g * g;
    gb += g * b;
    bb += b * b;
  }
  rr = rr / 9 + regularisation;
  gg = gg / 9 + regularisation;
  bb = bb / 9 + regularisation;
  rg /= 9;
  rb /= 9;
  gb /= 9;
  // Inverse of the symmetric 3x3 covariance by cofactors.
  const c00 = gg * bb - gb * gb;
  const c01 = rb * gb - rg * bb;
  const c02 = rg * gb - rb * gg;
  const c11 = rr * bb - rb * rb;
  const c12 = rg * rb - rr * gb;
  const c22 = rr * gg - rg * rg;
  const inverseDeterminant = 1 / (rr * c00 + rg * c01 + rb * c02);
  const i00 = c00 * inverseDeterminant;
  const i01 = c01 * inverseDeterminant;
  const i02 = c02 * inverseDeterminant;
  const i11 = c11 * inverseDeterminant;
  const i12 = c12 * inverseDeterminant;
  const i22 = c22 * inverseDeterminant;
  for (let k = 0; k < 9; k++) {
    const r = deviations[k * 3]!;
    const g = deviations[k * 3 + 1]!;
    const b = deviations[k * 3 + 2]!;
    weighted[k * 3] = i00 * r + i01 * g + i02 * b;
    weighted[k * 3 + 1] = i01 * r + i11 * g + i12 * b;
    weighted[k * 3 + 2] = i02 * r + i12 * g + i22 * b;
  }
  // The window's 9x9 block is symmetric: each pair (a, b <= a) is computed once and added to
  // both rows (or, where one pixel is known, to the other's right-hand side).
  for (let a = 0; a < 9; a++) {
    const rowA = windowRows[a]!;
    const wr = weighted[a * 3]!;
    const wg = weighted[a * 3 + 1]!;
    const wb = weighted[a * 3 + 2]!;
    for (let b = 0; b <= a; b++) {
      const rowB = windowRows[b]!;
      if (rowA < 0 && rowB < 0) continue;
      const affinity =
        (1 + wr * deviations[b * 3]! + wg * deviations[b * 3 + 1]! + wb * deviations[b * 3 + 2]!) /
        9;
      const value = (a === b ? 1 : 0) - affinity;
      if (rowA >= 0) {
        if (rowB >= 0) {
          coefficients[rowA * STENCIL_SIZE + PAIR_POSITION[a * 9 + b]!]! += value;
          if (a !== b) coefficients[rowB * STENCIL_SIZE + PAIR_POSITION[b * 9 + a]!]! += value;
        } else if (windowForeground[b]) {
          rightHandSide[rowA]! -= value;
        }
      } else if (windowForeground[a]) {
        rightHandSide[rowB]! -= value;
      }
    }
  }
}

/**
 * The upper half of a stencil matrix (per row the centre and the 12 positions after it, in
 * coefficient order), in float32 or float64, for `multiplySymmetricStencil`, from `memory`.
 */
export function upperStencil(
  coefficients: Float64Array,
  precision: 'float32' | 'float64',
  memory: SolverMemory = heapMemory(),
): Float32Array | Float64Array {
  const rows = coefficients.length / STENCIL_SIZE;
  const upper =
    precision === 'float32'
      ? memory.float32(rows * UPPER_STENCIL_SIZE)
      : memory.float64(rows * UPPER_STENCIL_SIZE);
  const first = STENCIL_SIZE - UPPER_STENCIL_SIZE;
  for (let row = 0; row < rows; row++) {
    upper.set(
      coefficients.subarray(row * STENCIL_SIZE + first, (row + 1) * STENCIL_SIZE),
      row * UPPER_STENCIL_SIZE,
    );
  }
  return upper;
}

/**
 * Multiplies a symmetric stencil matrix, given by its upper half (`upperStencil`), by `vector`
 * (one value per row) into `result`. Each row adds its upper products to its own sum and, by
 * symmetry, its lower ones to the later rows' sums: half the coefficients and half the reads of
 * the vector of a full 25-point product, about a quarter faster in V8. The matrix must be
 * exactly symmetric (`buildMattingSystem`'s is: each pair is computed once for both rows).
 * `values` and `sums` are grids of (width + 4) x (height + 4) whose known and outside cells
 * are zero; only the rows' own cells are written, so they stay zero between calls. Returns
 * vector . result.
 */
export function multiplySymmetricStencil(
  upper: Float32Array | Float64Array,
  vector: Float64Array,
  result: Float64Array,
  values: Float64Array,
  sums: Float64Array,
  paddedIndex: Int32Array,
  paddedWidth: number,
): number {
  const rows = paddedIndex.length;
  const c = upper;
  const v = values;
  const s = sums;
  for (let row = 0; row < rows; row++) {
    const m = paddedIndex[row]!;
    v[m] = vector[row]!;
    s[m] = 0;
  }
  for (let row = 0; row < rows; row++) {
    const m = paddedIndex[row]!;
    const o = row * UPPER_STENCIL_SIZE;
    const d = m + paddedWidth;
    const e = d + paddedWidth;
    const x = v[m]!;
    const c1 = c[o + 1]!;
    const c2 = c[o + 2]!;
    const c3 = c[o + 3]!;
    const c4 = c[o + 4]!;
    const c5 = c[o + 5]!;
    const c6 = c[o + 6]!;
    const c7 = c[o + 7]!;
    const c8 = c[o + 8]!;
    const c9 = c[o + 9]!;
    const c10 = c[o + 10]!;
    const c11 = c[o + 11]!;
    const c12 = c[o + 12]!;
    s[m]! +=
      c[o]! * x +
      c1 * v[m + 1]! +
      c2 * v[m + 2]! +
      c3 * v[d - 2]! +
      c4 * v[d - 1]! +
      c5 * v[d]! +
      c6 * v[d + 1]! +
      c7 * v[d + 2]! +
      c8 * v[e - 2]! +
      c9 * v[e - 1]! +
      c10 * v[e]! +
      c11 * v[e + 1]! +
      c12 * v[e + 2]!;
    s[m + 1]! += c1 * x;
    s[m + 2]! += c2 * x;
    s[d - 2]! += c3 * x;
    s[d - 1]! += c4 * x;
    s[d]! += c5 * x;
    s[d + 1]! += c6 * x;
    s[d + 2]! += c7 * x;
    s[e - 2]! += c8 * x;
    s[e - 1]! += c9 * x;
    s[e]! += c10 * x;
    s[e + 1]! += c11 * x;
    s[e + 2]! += c12 * x;
  }
  let energy = 0;
  for (let row = 0; row < rows; row++) {
    const value = s[paddedIndex[row]!]!;
    result[row] = value;
    energy += value * vector[row]!;
  }
  return energy;
}

/**
 * What the solver's stencil kernels share: each row's cell in the grid padded by two pixels on
 * every side, two zeroed grids of that size, and the memory the solver's other arrays come
 * from. Every kernel writes its rows' cells before it reads them and writes no other cell, so
 * the grids stay zero off the rows, and one pair serves the product and the preconditioner in
 * turn (half the memory, and fewer cache lines in play, than a pair each).
 */
export interface StencilWorkspace {
  padded: Int32Array;
  paddedWidth: number;
  first: Float64Array;
  second: Float64Array;
  memory: SolverMemory;
}

/**
 * Bytes per row the solver takes from the workspace's memory besides the grids: its cell index
 * (4), the product's 13 float32 coefficients (52), the factor's two float32 halves (96), the
 * inverse pivots (8) and five CG vectors (40), with room to spare.
 */
const SOLVER_BYTES_PER_ROW = 256;

/**
 * A fresh workspace for a system's kernels: in a WebAssembly memory with the SIMD kernels
 * ('wasm', where the runtime has them) or on the heap with the TypeScript ones ('js').
 */
export function stencilWorkspace(
  system: StencilSystem,
  kernels: 'wasm' | 'js' = 'wasm',
): StencilWorkspace {
  const rows = system.pixels.length;
  const paddedWidth = system.width + 4;
  const gridSize = paddedWidth * (system.height + 4);
  const memory =
    kernels === 'wasm'
      ? kernelMemory(2 * gridSize * 8 + rows * SOLVER_BYTES_PER_ROW + 4096)
      : heapMemory();
  const padded = memory.int32(rows);
  padded.set(paddedIndices(system));
  return {
    padded,
    paddedWidth,
    first: memory.float64(gridSize),
    second: memory.float64(gridSize),
    memory,
  };
}

/** Index of each row's pixel in a grid padded by two pixels on every side. */
export function paddedIndices(system: StencilSystem): Int32Array {
  const paddedWidth = system.width + 4;
  const result = new Int32Array(system.pixels.length);
  for (let row = 0; row < result.length; row++) {
    const pixel = system.pixels[row]!;
    const x = pixel % system.width;
    const y = (pixel - x) / system.width;
    result[row] = (y + 2) * paddedWidth + x + 2;
  }
  return result;
}

/** Offsets in the padded grid of the 25 stencil positions, in coefficient order. */
export function stencilOffsets(width: number): Int32Array {
  const paddedWidth = width + 4;
  const offsets = new Int32Array(STENCIL_SIZE);
  for (let dy = -2; dy <= 2; dy++) {
    for (let dx = -2; dx <= 2; dx++) {
      offsets[stencilPosition(dx, dy)] = dy * paddedWidth + dx;
    }
  }
  return offsets;
}
