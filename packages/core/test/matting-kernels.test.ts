import { describe, expect, it } from 'vitest';
import { solveConjugateGradient } from '../src/matting/conjugate-gradient.js';
import { fillKernelTemplate } from '../src/matting/kernels/kernel-template.js';
import { conjugateGradient, stencilOperator } from '../src/matting/krylov.js';
import {
  buildMattingSystem,
  type StencilSystem,
  stencilWorkspace,
} from '../src/matting/laplacian.js';
import { buildPreconditioner } from '../src/matting/preconditioners.js';
import { kernelMemory } from '../src/matting/solver-memory.js';
import {
  LOWER_STENCIL_SIZE,
  STENCIL_SIZE,
  UPPER_STENCIL_SIZE,
} from '../src/matting/stencil-layout.js';
import { wasmKernelsAvailable } from '../src/matting/wasm-kernels.js';
import { seededRandom, texturedScene } from './matting-helpers.js';

/** The kernels' trimap: sure foreground inside a wavy disc, unknown in an uneven band around it. */
function band(x: number, y: number): number {
  const d = Math.hypot(x - 27, y - 20) + 3 * Math.sin(x / 3);
  return d < 9 ? 255 : d > 17 + (y % 4) ? 0 : 128;
}

/**
 * A textured picture with an irregular band (odd sizes, an odd number of unknowns, rows that
 * touch the band's edges and the picture's), so every branch of the kernels' layout occurs.
 */
function bandSystem(): StencilSystem {
  const width = 57;
  const height = 43;
  const { image, trimap } = texturedScene(width, height, { seed: 11, low: 0.1, spread: 0.8 }, band);
  // Unknown pixels on the picture's edge too, and an odd count (the vector kernels work in pairs).
  trimap[0] = 128;
  if (trimap.filter((value) => value === 128).length % 2 === 0) trimap[width * height - 1] = 128;
  const system = buildMattingSystem(image, trimap, width, height, 1e-5);
  expect(system.pixels.length % 2).toBe(1);
  return system;
}

function randomVector(length: number, seed: number): Float64Array {
  const random = seededRandom(seed);
  return Float64Array.from({ length }, () => random() - 0.5);
}

function maxRelativeDifference(a: Float64Array, b: Float64Array): number {
  let scale = 0;
  let difference = 0;
  for (let i = 0; i < a.length; i++) {
    scale = Math.max(scale, Math.abs(b[i]!));
    difference = Math.max(difference, Math.abs(a[i]! - b[i]!));
  }
  return difference / scale;
}

describe('WebAssembly SIMD kernels of the matting solver', () => {
  it('are available on this runtime (Node has fixed-width SIMD)', () => {
    expect(wasmKernelsAvailable()).toBe(true);
  });

  it('compute the stencil product, the preconditioner and CG as the TypeScript kernels do', () => {
    const system = bandSystem();
    const rows = system.pixels.length;
    const setups = (['wasm', 'js'] as const).map((kernels) => {
      const workspace = stencilWorkspace(system, kernels);
      return {
        workspace,
        operator: stencilOperator(system, 'float32', workspace),
        preconditioner: buildPreconditioner(system, 'modified-incomplete-cholesky', workspace),
      };
    });
    const [simd, plain] = setups as [(typeof setups)[0], (typeof setups)[0]];
    expect(simd.workspace.memory.kernels).toBeDefined();
    expect(plain.workspace.memory.kernels).toBeUndefined();

    const input = randomVector(rows, 5);
    const results = setups.map(({ operator, preconditioner }) => {
      const vector = operator.vector();
      vector.set(input);
      const product = operator.vector();
      const energy = operator.multiply(vector, product);
      const applied = operator.vector();
      const residualDot = preconditioner.apply(vector, applied);
      // Twice, as the iteration does: the grids must come back clean.
      const again = operator.vector();
      operator.multiply(vector, again);
      return { product, energy, applied, residualDot, again };
    });
    const [a, b] = results as [(typeof results)[0], (typeof results)[0]];
    expect(maxRelativeDifference(a.product, b.product)).toBeLessThan(1e-12);
    expect(maxRelativeDifference(a.again, b.product)).toBeLessThan(1e-12);
    expect(Math.abs(a.energy - b.energy) / Math.abs(b.energy)).toBeLessThan(1e-12);
    expect(maxRelativeDifference(a.applied, b.applied)).toBeLessThan(1e-12);
    expect(Math.abs(a.residualDot - b.residualDot) / Math.abs(b.residualDot)).toBeLessThan(1e-12);

    const solutions = setups.map(({ operator, preconditioner }) => {
      const x = new Float64Array(rows);
      const iterations = conjugateGradient(operator, preconditioner, system.rightHandSide, x, {
        relativeTolerance: 1e-9,
        maxIterations: 1000,
      });
      return { x, iterations };
    });
    const [s, t] = solutions as [(typeof solutions)[0], (typeof solutions)[0]];
    expect(Math.abs(s.iterations - t.iterations)).toBeLessThanOrEqual(1);
    expect(maxRelativeDifference(s.x, t.x)).toBeLessThan(1e-6);
  });

  it('solve to the same residual through solveConjugateGradient', () => {
    const system = bandSystem();
    // 1e-6: ten times the production tolerance, near what the float32 matrix allows.
    const solved = (['wasm', 'js'] as const).map((kernels) =>
      solveConjugateGradient(system, { relativeTolerance: 1e-6, maxIterations: 2000, kernels }),
    );
    for (const result of solved) {
      expect(result.converged).toBe(true);
      expect(result.relativeResidual).toBeLessThan(1e-6);
    }
    expect(Math.abs(solved[0]!.iterations - solved[1]!.iterations)).toBeLessThanOrEqual(1);
  });

  it('fall back to plain arrays where their memory cannot be had', () => {
    const memory = kernelMemory(2 ** 33); // over WebAssembly's 4 GiB
    expect(memory.kernels).toBeUndefined();
    const array = memory.float64(4);
    expect(array.length).toBe(4);
    expect(memory.holds(array)).toBe(false);
  });

  it('take arrays beyond their memory from the heap, and leave those to TypeScript', () => {
    const memory = kernelMemory(64); // one 64 KiB page
    const inside = memory.float64(8);
    const outside = memory.float64(10_000);
    expect(memory.holds(inside)).toBe(true);
    expect(memory.holds(outside)).toBe(false);
  });
});

describe("the kernels' WAT template", () => {
  it("takes the rows' strides and the coefficients' offsets from the stencil layout", () => {
    expect(fillKernelTemplate('{{UPPER_ROW_BYTES}} {{FACTOR_ROW_BYTES}}')).toBe(
      `${UPPER_STENCIL_SIZE * 4} ${LOWER_STENCIL_SIZE * 4}`,
    );
    // The upper half starts at the centre; L's row ends just before it; L^T's starts after it.
    expect(fillKernelTemplate('{{upper(0,0)}} {{upper(2,2)}}')).toBe(
      `0 ${(UPPER_STENCIL_SIZE - 1) * 4}`,
    );
    expect(fillKernelTemplate('{{lower(-2,-2)}} {{lower(-1,0)}}')).toBe(
      `0 ${(LOWER_STENCIL_SIZE - 1) * 4}`,
    );
    expect(fillKernelTemplate('{{transposed(1,0)}} {{transposed(2,2)}}')).toBe(
      `0 ${(STENCIL_SIZE - LOWER_STENCIL_SIZE - 2) * 4}`,
    );
    expect(fillKernelTemplate('offset={{cell(-2)}} offset={{own(1)}} {{LINE_START}}')).toBe(
      'offset=0 offset=8 16',
    );
  });

  it('refuses placeholders it does not know and offsets outside their rows', () => {
    expect(() => fillKernelTemplate('{{ROW_BYTES}}')).toThrow(/no constant ROW_BYTES/);
    expect(() => fillKernelTemplate('{{upper(-1,0)}}')).toThrow(/before the centre/);
    expect(() => fillKernelTemplate('{{lower(0,0)}}')).toThrow(/not before the centre/);
    expect(() => fillKernelTemplate('{{cell(3)}}')).toThrow(/outside the stencil/);
    expect(() => fillKernelTemplate('{{cell(1,2)}}')).toThrow(/needs 1 integers/);
    expect(() => fillKernelTemplate('{{upper(0, x)}}')).toThrow(/needs 2 integers/);
  });
});
