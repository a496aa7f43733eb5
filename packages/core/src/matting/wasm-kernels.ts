/**
 * The conjugate-gradient solver's inner loops as WebAssembly SIMD (two f64 lanes), written in
 * `kernels/stencil-kernels.wat` and compiled by the build (scripts/build-kernels.ts, with wabt)
 * into a generated module: the symmetric stencil product, the two triangular sweeps of the
 * incomplete Cholesky preconditioner and the vector updates. They do exactly what the
 * TypeScript kernels do (`multiplySymmetricStencil`, the sweeps in `preconditioners.ts`, the
 * loops of `conjugateGradient`), up to the order of the additions, about 3x faster: V8 gives
 * plain JavaScript neither SIMD nor loads without bounds checks. Every argument that names an
 * array is its byte offset in the memory the kernels were instantiated on.
 */

import { STENCIL_KERNELS_WASM_BASE64 } from './kernels/generated/stencil-kernels-wasm.js';

/** The kernels bound to one memory. Array arguments are byte offsets in that memory. */
export interface WasmKernels {
  /** The symmetric stencil product (see `multiplySymmetricStencil`); returns vector . out. */
  multiply(
    rows: number,
    padded: number,
    upper: number,
    vector: number,
    out: number,
    values: number,
    sums: number,
    rowBytes: number,
  ): number;
  /** f = L^-1 residual on the grid `forward` (unit lower L, 12 coefficients per row). */
  forward(
    rows: number,
    padded: number,
    lower: number,
    residual: number,
    forward: number,
    rowBytes: number,
  ): void;
  /** into = L^-T D^-1 f (12 transposed coefficients per row); returns residual . into. */
  backward(
    rows: number,
    padded: number,
    upper: number,
    inverseDiagonal: number,
    forward: number,
    backward: number,
    into: number,
    residual: number,
    rowBytes: number,
  ): number;
  /**
   * x += step p, r -= step q over `bytes` bytes (a multiple of 16: the vectors' storage is
   * padded to whole pairs); returns r . r.
   */
  updateSolution(bytes: number, x: number, r: number, p: number, q: number, step: number): number;
  /** p = z + beta p over `bytes` bytes (a multiple of 16). */
  updateDirection(bytes: number, p: number, z: number, beta: number): void;
}

/** The subset of the WebAssembly JS API used here (the project's TypeScript lib has no DOM). */
interface WebAssemblyApi {
  Memory: new (descriptor: { initial: number }) => { buffer: ArrayBuffer };
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
  validate(bytes: Uint8Array): boolean;
}

const api = (globalThis as { WebAssembly?: WebAssemblyApi }).WebAssembly;

let compiled: object | null | undefined;

/** The kernels' module, compiled once per thread; null where WebAssembly SIMD is missing. */
function compiledModule(): object | null {
  if (compiled !== undefined) return compiled;
  const bytes = new Uint8Array(Buffer.from(STENCIL_KERNELS_WASM_BASE64, 'base64'));
  try {
    compiled = api?.validate(bytes) ? new api.Module(bytes) : null;
  } catch {
    compiled = null; // WebAssembly code generation disallowed here (e.g. --jitless)
  }
  return compiled;
}

/** Whether this runtime can run the kernels (WebAssembly with fixed-width SIMD). */
export function wasmKernelsAvailable(): boolean {
  return compiledModule() !== null;
}

/**
 * A zeroed WebAssembly memory of at least `bytes` bytes and the kernels instantiated on it, or
 * undefined where the kernels are unavailable or the memory cannot be had.
 */
export function instantiateWasmKernels(
  bytes: number,
): { buffer: ArrayBuffer; kernels: WasmKernels } | undefined {
  const module = compiledModule();
  if (!module || !api) return undefined;
  let memory: { buffer: ArrayBuffer };
  try {
    memory = new api.Memory({ initial: Math.ceil(bytes / 65536) });
  } catch {
    return undefined; // over the engine's limit or out of memory: the caller uses plain arrays
  }
  const instance = new api.Instance(module, { env: { memory } });
  return { buffer: memory.buffer, kernels: instance.exports as unknown as WasmKernels };
}
