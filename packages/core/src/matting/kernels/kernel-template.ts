/**
 * The values for the placeholders of `stencil-kernels.wat`, from the stencil layout shared with
 * the TypeScript kernels (`stencil-layout.ts`), so that a change there changes the WebAssembly
 * kernels' offsets too, or stops the build where the unrolled kernels cannot follow it:
 *
 * - `UPPER_STENCIL_SIZE`, `LOWER_STENCIL_SIZE`: coefficients per row of the product's upper
 *   half and of the preconditioner's factor;
 * - `UPPER_ROW_BYTES`, `FACTOR_ROW_BYTES`: the same rows in bytes (float32 coefficients);
 * - `upper(dx,dy)`, `lower(dx,dy)`, `transposed(dx,dy)`: byte offset in such a row of the
 *   coefficient for the pixel at (dx, dy) from the row's (`upperStencilIndex`,
 *   `lowerStencilIndex`, `transposedStencilIndex`);
 * - `cell(dx)`: byte offset of the cell dx from a grid line's first stencil cell (dx -2);
 * - `own(dx)`: byte offset of the cell dx from the row's own cell;
 * - `LINE_START`: bytes from a line's first stencil cell to its centre cell.
 */

import { fillWatTemplate } from '../../wasm/wat-template.js';
import {
  LOWER_STENCIL_SIZE,
  lowerStencilIndex,
  STENCIL_RADIUS,
  transposedStencilIndex,
  UPPER_STENCIL_SIZE,
  upperStencilIndex,
} from '../stencil-layout.js';

/** Bytes of one coefficient (float32) and of one grid cell (float64). */
const COEFFICIENT_BYTES = 4;
const CELL_BYTES = 8;

/**
 * The stencil reach the kernels are unrolled for: per row they read the lines 0..2 (or -2..0)
 * as the pairs (-2, -1), (0, +1) and the single +2.
 */
const UNROLLED_RADIUS = 2;

function cellIndex(dx: number): number {
  if (Math.abs(dx) > STENCIL_RADIUS) throw new RangeError(`cell ${dx} is outside the stencil`);
  return dx + STENCIL_RADIUS;
}

/**
 * `stencil-kernels.wat` (or any text using its placeholders) with every placeholder replaced.
 * Throws on an unknown placeholder, bad arguments, or a stencil the unrolled kernels were not
 * written for.
 */
export function fillKernelTemplate(template: string): string {
  if (STENCIL_RADIUS !== UNROLLED_RADIUS) {
    throw new Error(
      `stencil-kernels.wat is unrolled for a stencil radius of ${UNROLLED_RADIUS}, but stencil-layout.ts has ${STENCIL_RADIUS}: rewrite the kernels' loops along with it`,
    );
  }
  return fillWatTemplate(template, {
    constants: {
      UPPER_STENCIL_SIZE,
      LOWER_STENCIL_SIZE,
      UPPER_ROW_BYTES: UPPER_STENCIL_SIZE * COEFFICIENT_BYTES,
      FACTOR_ROW_BYTES: LOWER_STENCIL_SIZE * COEFFICIENT_BYTES,
      LINE_START: STENCIL_RADIUS * CELL_BYTES,
    },
    functions: {
      upper: { arity: 2, value: (dx, dy) => upperStencilIndex(dx!, dy!) * COEFFICIENT_BYTES },
      lower: { arity: 2, value: (dx, dy) => lowerStencilIndex(dx!, dy!) * COEFFICIENT_BYTES },
      transposed: {
        arity: 2,
        value: (dx, dy) => transposedStencilIndex(dx!, dy!) * COEFFICIENT_BYTES,
      },
      cell: { arity: 1, value: (dx) => cellIndex(dx!) * CELL_BYTES },
      own: { arity: 1, value: (dx) => (cellIndex(dx!) - STENCIL_RADIUS) * CELL_BYTES },
    },
  });
}
