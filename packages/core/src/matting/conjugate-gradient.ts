/**
 * Preconditioned conjugate gradients for the matting system (symmetric positive definite, in
 * stencil form).
 */

import { conjugateGradient, dot, stencilOperator } from './krylov.js';
import {
  STENCIL_SIZE,
  type StencilSystem,
  type StencilWorkspace,
  stencilOffsets,
  stencilWorkspace,
} from './laplacian.js';
import { buildPreconditioner, type PreconditionerKind } from './preconditioners.js';

export interface SolveOptions {
  /** Stop when |b - Ax| <= relativeTolerance * |b|. */
  relativeTolerance: number;
  /** Give up after this many iterations (the answer so far is returned, `converged` false). */
  maxIterations: number;
  /** Starting guess, one value per row; zeros when left out. */
  initialGuess?: Float64Array;
  /** Modified incomplete Cholesky, MIC(0), unless told otherwise. */
  preconditioner?: PreconditionerKind;
  /**
   * Precision of the matrix in the iteration's products: float32 (the default) halves their
   * memory traffic and is ample for alpha; float64 lets a test drive the residual far lower.
   */
  matrixPrecision?: 'float32' | 'float64';
  /**
   * The inner loops as WebAssembly SIMD ('wasm', the default; used where the runtime has it,
   * with the float32 matrix and an incomplete Cholesky preconditioner) or TypeScript ('js').
   */
  kernels?: 'wasm' | 'js';
}

export interface SolveResult {
  solution: Float64Array;
  iterations: number;
  /** |b - Ax| / |b| of the returned solution (recomputed, not the recurrence's estimate). */
  relativeResidual: number;
  converged: boolean;
}

/**
 * Solves the stencil system with preconditioned conjugate gradients. Always returns the
 * last iterate; `converged` says whether it met the tolerance within `maxIterations`.
 */
export function solveConjugateGradient(system: StencilSystem, options: SolveOptions): SolveResult {
  const rows = system.pixels.length;
  const b = system.rightHandSide;
  const x = options.initialGuess ? Float64Array.from(options.initialGuess) : new Float64Array(rows);
  if (x.length !== rows) throw new Error('solveConjugateGradient: initial guess has wrong length');
  const bNorm = Math.sqrt(dot(b, b));
  if (rows === 0 || bNorm === 0) {
    // b = 0 has the solution 0 (the matrix is positive definite).
    return {
      solution: new Float64Array(rows),
      iterations: 0,
      relativeResidual: 0,
      converged: true,
    };
  }
  const workspace = stencilWorkspace(system, options.kernels ?? 'wasm');
  let iterations: number;
  let relativeResidual: number;
  try {
    const operator = stencilOperator(system, options.matrixPrecision ?? 'float32', workspace);
    const preconditioner = buildPreconditioner(
      system,
      options.preconditioner ?? 'modified-incomplete-cholesky',
      workspace,
    );
    iterations = conjugateGradient(operator, preconditioner, b, x, {
      relativeTolerance: options.relativeTolerance,
      maxIterations: options.maxIterations,
    });
    relativeResidual = residualNorm(system, x, workspace) / bNorm;
  } finally {
    // Nothing of the workspace's memory escapes: x is ours, on the heap.
    workspace.memory.release();
  }
  return {
    solution: x,
    iterations,
    relativeResidual,
    converged: relativeResidual <= options.relativeTolerance * 1.01,
  };
}

/**
 * |b - Ax| for the system's float64 matrix, computed directly from all 25 coefficients per row
 * (for checks and reports).
 */
export function residualNorm(
  system: StencilSystem,
  x: Float64Array,
  workspace: StencilWorkspace = stencilWorkspace(system),
): number {
  const { padded, first: scratch } = workspace;
  const offsets = stencilOffsets(system.width);
  for (let row = 0; row < padded.length; row++) scratch[padded[row]!] = x[row]!;
  let sum = 0;
  for (let row = 0; row < padded.length; row++) {
    let product = 0;
    for (let o = 0; o < STENCIL_SIZE; o++) {
      product +=
        system.coefficients[row * STENCIL_SIZE + o]! * scratch[padded[row]! + offsets[o]!]!;
    }
    sum += (system.rightHandSide[row]! - product) ** 2;
  }
  return Math.sqrt(sum);
}
