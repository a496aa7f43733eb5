/**
 * Fills the placeholders of `stencil-kernels.wat` from the stencil layout shared with the
 * TypeScript kernels (`stencil-layout.ts`), so that a change there changes the WebAssembly
 * kernels' offsets too, or stops the build where the unrolled kernels cannot follow it. Used
 * by the build (scripts/build-kernels.ts) and by the test that checks the built kernels are
 * current; nothing here runs when the solver does.
 *
 * Placeholders are `{{NAME}}` or `{{name(a,b)}}`, with integer arguments:
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

const constants: Record<string, number> = {
  UPPER_STENCIL_SIZE,
  LOWER_STENCIL_SIZE,
  UPPER_ROW_BYTES: UPPER_STENCIL_SIZE * COEFFICIENT_BYTES,
  FACTOR_ROW_BYTES: LOWER_STENCIL_SIZE * COEFFICIENT_BYTES,
  LINE_START: STENCIL_RADIUS * CELL_BYTES,
};

const functions: Record<string, (...args: number[]) => number> = {
  upper: (dx, dy) => upperStencilIndex(dx!, dy!) * COEFFICIENT_BYTES,
  lower: (dx, dy) => lowerStencilIndex(dx!, dy!) * COEFFICIENT_BYTES,
  transposed: (dx, dy) => transposedStencilIndex(dx!, dy!) * COEFFICIENT_BYTES,
  cell: (dx) => cellIndex(dx!) * CELL_BYTES,
  own: (dx) => (cellIndex(dx!) - STENCIL_RADIUS) * CELL_BYTES,
};

const arity: Record<string, number> = { upper: 2, lower: 2, transposed: 2, cell: 1, own: 1 };

function cellIndex(dx: number): number {
  if (Math.abs(dx) > STENCIL_RADIUS) throw new RangeError(`cell ${dx} is outside the stencil`);
  return dx + STENCIL_RADIUS;
}

/**
 * The WAT text with every placeholder replaced by its number. Throws on an unknown placeholder,
 * bad arguments, or a stencil the unrolled kernels were not written for.
 */
export function fillKernelTemplate(template: string): string {
  if (STENCIL_RADIUS !== UNROLLED_RADIUS) {
    throw new Error(
      `stencil-kernels.wat is unrolled for a stencil radius of ${UNROLLED_RADIUS}, but stencil-layout.ts has ${STENCIL_RADIUS}: rewrite the kernels' loops along with it`,
    );
  }
  const filled = template.replace(
    /\{\{\s*([A-Za-z_]\w*)\s*(?:\(([^)]*)\))?\s*\}\}/g,
    (placeholder, name: string, list: string | undefined) => {
      const value = evaluate(name, list);
      if (!Number.isInteger(value) || value < 0) {
        throw new Error(`kernel template: ${placeholder} gives ${value}, not a byte offset`);
      }
      return String(value);
    },
  );
  const left = /\{\{[^}]*\}\}?/.exec(filled);
  if (left) throw new Error(`kernel template: cannot read the placeholder ${left[0]}`);
  return filled;
}

function evaluate(name: string, list: string | undefined): number {
  if (list === undefined) {
    const value = constants[name];
    if (value === undefined) throw new Error(`kernel template: no constant ${name}`);
    return value;
  }
  const evaluateFunction = functions[name];
  if (!evaluateFunction) throw new Error(`kernel template: no function ${name}`);
  const args = list.split(',').map((text) => Number(text.trim()));
  if (args.length !== arity[name] || !args.every(Number.isInteger)) {
    throw new Error(`kernel template: ${name}(${list}) needs ${arity[name]} integers`);
  }
  return evaluateFunction(...args);
}
