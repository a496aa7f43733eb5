/** The Krylov core of the matting solver: a matrix as an operator and preconditioned CG on it. */

import { multiplyStencil, paddedIndices, type StencilSystem } from './laplacian.js';
import type { Preconditioner } from './preconditioners.js';

/** A matrix as the iteration sees it: y = A v. */
export interface LinearOperator {
  rows: number;
  multiply(vector: Float64Array, into: Float64Array): void;
}

/**
 * The system's matrix as an operator. float32 coefficients halve the memory traffic of the
 * product, which bounds its speed.
 */
export function stencilOperator(
  system: StencilSystem,
  precision: 'float32' | 'float64',
): LinearOperator {
  const scratch = new Float64Array((system.width + 4) * (system.height + 4));
  const padded = paddedIndices(system);
  const coefficients =
    precision === 'float64' ? system.coefficients : Float32Array.from(system.coefficients);
  const paddedWidth = system.width + 4;
  return {
    rows: system.pixels.length,
    multiply(vector, into) {
      multiplyStencil(coefficients, vector, into, scratch, padded, paddedWidth);
    },
  };
}

/**
 * Preconditioned conjugate gradients on `x` in place, from its current value, until
 * |b - Ax| <= relativeTolerance |b| or maxIterations. Returns the number of iterations.
 */
export function conjugateGradient(
  operator: LinearOperator,
  preconditioner: Preconditioner,
  b: Float64Array,
  x: Float64Array,
  options: { relativeTolerance: number; maxIterations: number },
): number {
  const rows = operator.rows;
  const r = new Float64Array(rows);
  const z = new Float64Array(rows);
  const p = new Float64Array(rows);
  const q = new Float64Array(rows);
  operator.multiply(x, q);
  for (let i = 0; i < rows; i++) r[i] = b[i]! - q[i]!;
  preconditioner.apply(r, z);
  p.set(z);
  let rz = dot(r, z);
  const threshold = options.relativeTolerance * Math.sqrt(dot(b, b));
  let iterations = 0;
  while (iterations < options.maxIterations && Math.sqrt(dot(r, r)) > threshold) {
    operator.multiply(p, q);
    const pq = dot(p, q);
    if (!(pq > 0) || !(rz > 0)) break; // lost positive definiteness to rounding: stop here
    const step = rz / pq;
    for (let i = 0; i < rows; i++) {
      x[i]! += step * p[i]!;
      r[i]! -= step * q[i]!;
    }
    preconditioner.apply(r, z);
    const rzNext = dot(r, z);
    const beta = rzNext / rz;
    rz = rzNext;
    for (let i = 0; i < rows; i++) p[i] = z[i]! + beta * p[i]!;
    iterations++;
  }
  return iterations;
}

/** The dot product of two vectors of equal length. */
export function dot(a: Float64Array, b: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
}
