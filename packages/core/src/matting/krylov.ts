/** The Krylov core of the matting solver: a matrix as an operator and preconditioned CG on it. */

import {
  multiplySymmetricStencil,
  type StencilSystem,
  type StencilWorkspace,
  stencilWorkspace,
  upperStencil,
} from './laplacian.js';
import type { Preconditioner } from './preconditioners.js';

/** A matrix as the iteration sees it: y = A v, returning v . A v (CG needs it). */
export interface LinearOperator {
  rows: number;
  multiply(vector: Float64Array, into: Float64Array): number;
}

/**
 * The system's (symmetric) matrix as an operator, from its upper half. float32 coefficients
 * halve the memory traffic of the product, which bounds its speed.
 */
export function stencilOperator(
  system: StencilSystem,
  precision: 'float32' | 'float64',
  workspace: StencilWorkspace = stencilWorkspace(system),
): LinearOperator {
  const { padded, paddedWidth, first, second } = workspace;
  const upper = upperStencil(system.coefficients, precision);
  return {
    rows: system.pixels.length,
    multiply(vector, into) {
      return multiplySymmetricStencil(upper, vector, into, first, second, padded, paddedWidth);
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
    rr = 0;
    for (let i = 0; i < rows; i++) {
      x[i]! += step * p[i]!;
      const value = r[i]! - step * q[i]!;
      r[i] = value;
      rr += value * value;
    }
    const rzNext = preconditioner.apply(r, z);
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
