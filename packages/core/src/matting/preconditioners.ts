/**
 * Preconditioners for the matting system: Jacobi (the diagonal) and zero fill-in incomplete
 * Cholesky, IC(0), on the stencil's own sparsity pattern. IC(0) cuts the conjugate-gradient
 * iterations several-fold on matting Laplacians, for about one extra matrix product per
 * iteration.
 */

import { paddedIndices, STENCIL_SIDE, STENCIL_SIZE, type StencilSystem } from './laplacian.js';

/** Applies M^-1 to a vector: `into = M^-1 residual`. */
export interface Preconditioner {
  apply(residual: Float64Array, into: Float64Array): void;
}

export type PreconditionerKind = 'jacobi' | 'incomplete-cholesky';

const CENTRE = (STENCIL_SIZE - 1) / 2;
/** Stencil positions before the centre: the neighbours with a smaller pixel index. */
const LOWER = CENTRE;

/** Builds the named preconditioner for a system. */
export function buildPreconditioner(
  system: StencilSystem,
  kind: PreconditionerKind,
): Preconditioner {
  return kind === 'jacobi' ? jacobi(system) : incompleteCholesky(system);
}

function jacobi(system: StencilSystem): Preconditioner {
  const rows = system.pixels.length;
  const inverse = new Float64Array(rows);
  for (let row = 0; row < rows; row++) {
    const diagonal = system.coefficients[row * STENCIL_SIZE + CENTRE]!;
    inverse[row] = diagonal > 1e-12 ? 1 / diagonal : 1;
  }
  return {
    apply(residual, into) {
      for (let row = 0; row < rows; row++) into[row] = residual[row]! * inverse[row]!;
    },
  };
}

/** Row of each row's lower stencil neighbours (-1 where that pixel is not an unknown). */
function lowerNeighbourRows(system: StencilSystem): Int32Array {
  const { width, height, pixels, rowOfPixel } = system;
  const rows = pixels.length;
  const result = new Int32Array(rows * LOWER).fill(-1);
  for (let row = 0; row < rows; row++) {
    const pixel = pixels[row]!;
    const x = pixel % width;
    const y = (pixel - x) / width;
    for (let o = 0; o < LOWER; o++) {
      const dx = (o % STENCIL_SIDE) - 2;
      const dy = ((o / STENCIL_SIDE) | 0) - 2;
      const nx = x + dx;
      const ny = y + dy;
      if (nx < 0 || ny < 0 || nx >= width || ny >= height) continue;
      result[row * LOWER + o] = rowOfPixel[ny * width + nx]!;
    }
  }
  return result;
}

/**
 * For each lower position o of a row i (neighbour j), the pairs (q, p): position q of i's
 * lower neighbour k, and k's position p relative to j when k is also one of j's lower
 * neighbours. These are the terms L_iq L_jp of the IC(0) update of L_io.
 */
function commonLowerPairs(): number[][] {
  const pairs: number[][] = [];
  for (let o = 0; o < LOWER; o++) {
    const list: number[] = [];
    const ox = (o % STENCIL_SIDE) - 2;
    const oy = ((o / STENCIL_SIDE) | 0) - 2;
    for (let q = 0; q < LOWER; q++) {
      if (q === o) continue;
      const dx = (q % STENCIL_SIDE) - 2 - ox;
      const dy = ((q / STENCIL_SIDE) | 0) - 2 - oy;
      if (Math.abs(dx) > 2 || Math.abs(dy) > 2) continue;
      const p = (dy + 2) * STENCIL_SIDE + dx + 2;
      if (p < LOWER) list.push(q, p);
    }
    pairs.push(list);
  }
  return pairs;
}

/**
 * IC(0): L with the pattern of A's lower triangle and L L^T = A on that pattern. A pivot that
 * is not safely positive (the factorisation can break down on matrices that are not
 * M-matrices) restarts the factorisation with the diagonal scaled up, as is usual.
 */
function incompleteCholesky(system: StencilSystem): Preconditioner {
  const rows = system.pixels.length;
  const neighbours = lowerNeighbourRows(system);
  const pairs = commonLowerPairs();
  const factor = new Float64Array(rows * (LOWER + 1));
  const { coefficients } = system;
  let shift = 0;
  for (let attempt = 0; ; attempt++) {
    let brokeDown = false;
    for (let row = 0; row < rows && !brokeDown; row++) {
      const base = row * (LOWER + 1);
      const aBase = row * STENCIL_SIZE;
      let diagonalSum = 0;
      for (let o = 0; o < LOWER; o++) {
        const j = neighbours[row * LOWER + o]!;
        const a = coefficients[aBase + o]!;
        if (j < 0 || a === 0) {
          factor[base + o] = 0;
          continue;
        }
        let sum = a;
        const list = pairs[o]!;
        const jBase = j * (LOWER + 1);
        for (let t = 0; t < list.length; t += 2) {
          sum -= factor[base + list[t]!]! * factor[jBase + list[t + 1]!]!;
        }
        const value = sum / factor[jBase + LOWER]!;
        factor[base + o] = value;
        diagonalSum += value * value;
      }
      const diagonal = coefficients[aBase + CENTRE]! * (1 + shift);
      const pivot = diagonal - diagonalSum;
      if (!(pivot > diagonal * 1e-6) && diagonal > 1e-12) {
        brokeDown = true;
      } else {
        factor[base + LOWER] = diagonal > 1e-12 ? Math.sqrt(pivot) : 1;
      }
    }
    if (!brokeDown) break;
    if (attempt >= 8) return jacobi(system);
    shift = shift === 0 ? 1e-3 : shift * 4;
  }

  return triangularSolves(system, neighbours, factor);
}

/**
 * M^-1 r = L^-T L^-1 r by forward and backward substitution on grids padded by two pixels,
 * whose known and outside cells stay zero, so neither loop needs a branch. The factor is kept
 * in float32 (it only steers the iteration) and its upper half transposed per row, so both
 * sweeps read rows in order.
 */
function triangularSolves(
  system: StencilSystem,
  neighbours: Int32Array,
  factor: Float64Array,
): Preconditioner {
  const rows = system.pixels.length;
  const padded = paddedIndices(system);
  const lower = new Float32Array(rows * LOWER);
  const upper = new Float32Array(rows * LOWER);
  const inverseDiagonal = new Float64Array(rows);
  for (let row = 0; row < rows; row++) {
    const base = row * (LOWER + 1);
    inverseDiagonal[row] = 1 / factor[base + LOWER]!;
    for (let o = 0; o < LOWER; o++) {
      const value = factor[base + o]!;
      lower[row * LOWER + o] = value;
      const j = neighbours[row * LOWER + o]!;
      // Row j's upper neighbour at the mirrored position is this row.
      if (j >= 0) upper[j * LOWER + (STENCIL_SIZE - 1 - o - (CENTRE + 1))] = value;
    }
  }
  const w = system.width + 4;
  const gridSize = w * (system.height + 4);
  const forward = new Float64Array(gridSize);
  const backward = new Float64Array(gridSize);
  return {
    apply(residual, into) {
      const f = forward;
      const l = lower;
      for (let row = 0; row < rows; row++) {
        const m = padded[row]!;
        const o = row * LOWER;
        const a = m - 2 * w;
        const b = m - w;
        const sum =
          residual[row]! -
          (l[o]! * f[a - 2]! +
            l[o + 1]! * f[a - 1]! +
            l[o + 2]! * f[a]! +
            l[o + 3]! * f[a + 1]! +
            l[o + 4]! * f[a + 2]! +
            l[o + 5]! * f[b - 2]! +
            l[o + 6]! * f[b - 1]! +
            l[o + 7]! * f[b]! +
            l[o + 8]! * f[b + 1]! +
            l[o + 9]! * f[b + 2]! +
            l[o + 10]! * f[m - 2]! +
            l[o + 11]! * f[m - 1]!);
        f[m] = sum * inverseDiagonal[row]!;
      }
      const g = backward;
      const u = upper;
      for (let row = rows - 1; row >= 0; row--) {
        const m = padded[row]!;
        const o = row * LOWER;
        const a = m + w;
        const b = m + 2 * w;
        const sum =
          f[m]! -
          (u[o]! * g[m + 1]! +
            u[o + 1]! * g[m + 2]! +
            u[o + 2]! * g[a - 2]! +
            u[o + 3]! * g[a - 1]! +
            u[o + 4]! * g[a]! +
            u[o + 5]! * g[a + 1]! +
            u[o + 6]! * g[a + 2]! +
            u[o + 7]! * g[b - 2]! +
            u[o + 8]! * g[b - 1]! +
            u[o + 9]! * g[b]! +
            u[o + 10]! * g[b + 1]! +
            u[o + 11]! * g[b + 2]!);
        const value = sum * inverseDiagonal[row]!;
        g[m] = value;
        into[row] = value;
      }
    },
  };
}
