/**
 * Where the matting solver's arrays live. The WebAssembly kernels can only reach arrays in
 * their own memory, so the solver takes its grids, coefficients, factor and vectors from one
 * `SolverMemory`: a WebAssembly memory sized up front with the kernels bound to it, or the
 * ordinary heap (no kernels: the TypeScript loops run instead).
 */

import { instantiateWasmKernels, type WasmKernels } from './wasm-kernels.js';

/** Typed arrays for the solver, zeroed. */
export interface SolverMemory {
  float64(length: number): Float64Array;
  float32(length: number): Float32Array;
  int32(length: number): Int32Array;
  /** The SIMD kernels, bound to this memory; undefined for the heap. */
  kernels: WasmKernels | undefined;
  /** Whether the kernels can reach `array` (it came from this memory). */
  holds(array: ArrayBufferView): boolean;
  /**
   * Hands the memory back for the thread's next solve (its arrays must not be used after);
   * optional: a memory never released is simply collected.
   */
  release(): void;
}

/** Arrays on the ordinary heap, for the TypeScript kernels. */
export function heapMemory(): SolverMemory {
  return {
    float64: (length) => new Float64Array(length),
    float32: (length) => new Float32Array(length),
    int32: (length) => new Int32Array(length),
    kernels: undefined,
    holds: () => false,
    release: () => {},
  };
}

/**
 * A released memory up to this size is kept for the thread's next solve: a fresh one costs a
 * page fault per 4 KiB touched (tens of milliseconds of system time for a 1000 px picture),
 * while one kept costs its size in memory between pictures.
 */
const KEEP_BYTES = 128 * 1024 * 1024;

type Instance = NonNullable<ReturnType<typeof instantiateWasmKernels>>;
/** The thread's idle memory, if any. */
let spare: Instance | undefined;

/**
 * A WebAssembly memory of at least `bytes` bytes with the kernels on it (the thread's idle
 * one when it is large enough), handing out arrays from the start. Each array is 16-byte
 * aligned and followed by zero padding up to the next 16 bytes (so the two-lane kernels may run
 * over a vector's odd last element); requests beyond the memory come from the heap instead.
 * Falls back to `heapMemory()` where WebAssembly SIMD is missing or the memory cannot be had.
 */
export function kernelMemory(bytes: number): SolverMemory {
  let instance: Instance | undefined;
  let reused = false;
  if (spare && spare.buffer.byteLength >= bytes) {
    instance = spare;
    reused = true;
  } else {
    instance = instantiateWasmKernels(bytes);
  }
  spare = undefined;
  if (!instance) return heapMemory();
  const leased = instance;
  const { buffer, kernels } = leased;
  let next = 0;
  let released = false;
  /** Byte offset of a new array's storage (zeroed), or undefined when it does not fit. */
  const take = (length: number, elementBytes: number): number | undefined => {
    const size = Math.ceil((length * elementBytes) / 16) * 16;
    if (released) throw new Error('kernelMemory: used after release');
    if (next + size > buffer.byteLength) return undefined;
    const offset = next;
    next += size;
    if (reused) new Uint8Array(buffer, offset, size).fill(0);
    return offset;
  };
  return {
    float64(length) {
      const offset = take(length, 8);
      return offset === undefined
        ? new Float64Array(length)
        : new Float64Array(buffer, offset, length);
    },
    float32(length) {
      const offset = take(length, 4);
      return offset === undefined
        ? new Float32Array(length)
        : new Float32Array(buffer, offset, length);
    },
    int32(length) {
      const offset = take(length, 4);
      return offset === undefined ? new Int32Array(length) : new Int32Array(buffer, offset, length);
    },
    kernels,
    holds: (array) => array.buffer === buffer,
    release() {
      if (released) return;
      released = true;
      if (buffer.byteLength <= KEEP_BYTES) spare = leased;
    },
  };
}
