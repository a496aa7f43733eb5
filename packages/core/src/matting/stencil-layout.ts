/**
 * The layout of the matting system's stencil rows, shared by the TypeScript kernels and the
 * WebAssembly ones: the build fills the byte offsets in `kernels/stencil-kernels.wat` from the
 * functions here (see `kernels/kernel-template.ts`), so the two cannot drift apart. This module
 * imports nothing, so the build can load it before the kernels exist.
 */

/** How far apart, on each axis, two pixels sharing a 3x3 window can be. */
export const STENCIL_RADIUS = 2;
/** Side of the 5x5 neighbourhood two pixels sharing a 3x3 window can span. */
export const STENCIL_SIDE = 2 * STENCIL_RADIUS + 1;
/** Coefficients stored per row: one per pixel of the 5x5 neighbourhood. */
export const STENCIL_SIZE = STENCIL_SIDE * STENCIL_SIDE;
/** Position of the row's own pixel in the stencil. */
export const STENCIL_CENTRE = (STENCIL_SIZE - 1) / 2;
/** Coefficients kept per row by the symmetric product: the centre and the 12 after it. */
export const UPPER_STENCIL_SIZE = (STENCIL_SIZE + 1) / 2;
/**
 * Stencil positions before the centre (the neighbours with a smaller pixel index): the
 * coefficients per row of the preconditioner's lower factor, and of its transpose.
 */
export const LOWER_STENCIL_SIZE = STENCIL_CENTRE;

/** Stencil position (0..24, in coefficient order) of the pixel at (dx, dy) from the row's. */
export function stencilPosition(dx: number, dy: number): number {
  if (Math.abs(dx) > STENCIL_RADIUS || Math.abs(dy) > STENCIL_RADIUS) {
    throw new RangeError(`stencilPosition: (${dx}, ${dy}) is outside the stencil`);
  }
  return (dy + STENCIL_RADIUS) * STENCIL_SIDE + dx + STENCIL_RADIUS;
}

/**
 * Index in a row of `upperStencil` (the centre and the positions after it) of the coefficient
 * for the pixel at (dx, dy).
 */
export function upperStencilIndex(dx: number, dy: number): number {
  const index = stencilPosition(dx, dy) - STENCIL_CENTRE;
  if (index < 0) throw new RangeError(`upperStencilIndex: (${dx}, ${dy}) is before the centre`);
  return index;
}

/** Index in a row of the lower factor L (positions before the centre) of the pixel at (dx, dy). */
export function lowerStencilIndex(dx: number, dy: number): number {
  const index = stencilPosition(dx, dy);
  if (index >= STENCIL_CENTRE) {
    throw new RangeError(`lowerStencilIndex: (${dx}, ${dy}) is not before the centre`);
  }
  return index;
}

/**
 * Index in a row of the transposed factor L^T (positions after the centre) of the pixel at
 * (dx, dy): row j's entry for its neighbour i at position p is row i's lower entry for j, at
 * the mirrored position STENCIL_SIZE - 1 - p (see `triangularSolves`).
 */
export function transposedStencilIndex(dx: number, dy: number): number {
  const index = stencilPosition(dx, dy) - STENCIL_CENTRE - 1;
  if (index < 0) {
    throw new RangeError(`transposedStencilIndex: (${dx}, ${dy}) is not after the centre`);
  }
  return index;
}
