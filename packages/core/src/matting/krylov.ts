/** The Krylov core of the matting solver: a matrix as an operator and preconditioned CG on it. */

import {
  multiplySymmetricStencil,
  type StencilSystem,
  type StencilWorkspace,
  stencilWorkspace,
  upperStencil,
} from './laplacian.js';
import type { Preconditioner } from './preconditioners.js';
import type { WasmKernels } from './wasm-kernels.js';

/** A matrix as the iteration sees it: y = A v, returning v . A v (CG needs it). */
export interface LinearOperator {
  rows: number;
  multiply(vector: Float64Array, into: Float64Array): number;
  /** A zeroed vector of `rows` values where the operator's kernels work fastest. */
  vector(): Float64Array;
  /** SIMD kernels for CG's vector updates, where there are any and they reach all `vectors`. */
  kernelsFor?(vectors: Float64Array[]): WasmKernels | undefined;
}

/**
 * The system's (symmetric) matrix as an operator, from its upper half. float32 coefficients
 * halve the memory traffic of the product; with them, and vectors from `operator.vector()`,
 * the product runs as WebAssembly SIMD when the workspace has the kernels.
 */
export function stencilOperator(
  system: StencilSystem,
  precision: 'float32' | 'float64',
  workspace: StencilWorkspace = stencilWorkspace(system),
): LinearOperator {
  const { padded, paddedWidth, first, second, memory } = workspace;
  const upper = upperStencil(system.coefficients, precision, memory);
  const rows = system.pixels.length;
  const kernels =
    memory.kernels &&
    upper instanceof Float32Array &&
    [padded, first, second, upper].every((array) => memory.holds(array))
      ? memory.kernels
      : undefined;
  return {
    rows,
    multiply(vector, into) {
      if (kernels && memory.holds(vector) && memory.holds(into)) {
        return kernels.multiply(
          rows,
          padded.byteOffset,
          upper.byteOffset,
          vector.byteOffset,
          into.byteOffset,
          first.byteOffset,
          second.byteOffset,
          paddedWidth * 8,
        );
      }
      return multiplySymmetricStencil(upper, vector, into, first, second, padded, paddedWidth);
    },
    vector: () => memory.float64(rows),
    kernelsFor: (vectors) =>
      vectors.every((vector) => memory.holds(vector)) ? memory.kernels : undefined,
  };
}

/**
 * Preconditioned conjugate gradients on `x` in place, from its current value, until
 * |b - Ax| <= relativeTolerance |b| or maxIterations. Returns the number of iterations. The
 * iteration's vectors come from `operator.vector()` (x is copied in and out).
 */
export function conjugateGradient(
  operator: LinearOperator,
  preconditioner: Preconditioner,
  b: Float64Array,
  x: Float64Array,
  options: { relativeTolerance: number; maxIterations: number },
): number {
  const rows = operator.rows;
  const solution = operator.vector();
  solution.set(x);
  const r = operator.vector();
  const z = operator.vector();
  const p = operator.vector();
  const q = operator.vector();
  const kernels = operator.kernelsFor?.([solution, r, z, p, q]);
  const updates = kernels ? simdUpdates(kernels, rows) : scalarUpdates(rows);
  operator.multiply(solution, q);
  let rr = 0;
  for (let i = 0; i < rows; i++) {
    const value = b[i]! - q[i]!;
    r[i] = value;
    rr += value * value;
  }
  let rz = preconditioner.apply(r, z);
  p.set(z);
  const threshold = options.relativeTolerance * Math.sqrt(dot(b, b));
  let iterations = 0;
  // The dot products ride along the passes that produce their vectors (the loops are bound by
  // memory traffic, so the extra arithmetic is free).
  while (iterations < options.maxIterations && rr > threshold * threshold) {
    const pq = operator.multiply(p, q);
    if (!(pq > 0) || !(rz > 0)) break; // lost positive definiteness to rounding: stop here
    const step = rz / pq;
    rr = updates.solution(solution, r, p, q, step);
    const rzNext = preconditioner.apply(r, z);
    const beta = rzNext / rz;
    rz = rzNext;
    updates.direction(p, z, beta);
    iterations++;
  }
  x.set(solution);
  return iterations;
}

/** CG's two vector updates: x += step p, r -= step q (returning r . r); p = z + beta p. */
interface VectorUpdates {
  solution(
    x: Float64Array,
    r: Float64Array,
    p: Float64Array,
    q: Float64Array,
    step: number,
  ): number;
  direction(p: Float64Array, z: Float64Array, beta: number): void;
}

function scalarUpdates(rows: number): VectorUpdates {
  return {
    solution(x, r, p, q, step) {
      let rr = 0;
      for (let i = 0; i < rows; i++) {
        x[i]! += step * p[i]!;
        const value = r[i]! - step * q[i]!;
        r[i] = value;
        rr += value * value;
      }
      return rr;
    },
    direction(p, z, beta) {
      for (let i = 0; i < rows; i++) p[i] = z[i]! + beta * p[i]!;
    },
  };
}

/** The updates on vectors from the kernels' memory (padded to whole pairs of values). */
function simdUpdates(kernels: WasmKernels, rows: number): VectorUpdates {
  const bytes = Math.ceil(rows / 2) * 16;
  return {
    solution: (x, r, p, q, step) =>
      kernels.updateSolution(bytes, x.byteOffset, r.byteOffset, p.byteOffset, q.byteOffset, step),
    direction: (p, z, beta) => kernels.updateDirection(bytes, p.byteOffset, z.byteOffset, beta),
  };
}

/** The dot product of two vectors of equal length. */
export function dot(a: Float64Array, b: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
}
