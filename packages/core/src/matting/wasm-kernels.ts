/**
 * The conjugate-gradient solver's inner loops as WebAssembly SIMD (two f64 lanes), assembled at
 * run time by `wasm-encoder.ts`: the symmetric stencil product, the two triangular sweeps of
 * the incomplete Cholesky preconditioner and the vector updates. They do exactly what the
 * TypeScript kernels do (`multiplySymmetricStencil`, the sweeps in `preconditioners.ts`, the
 * loops of `conjugateGradient`), up to the order of the additions, about 3x faster: V8 gives
 * plain JavaScript neither SIMD nor loads without bounds checks. Every argument that names an
 * array is its byte offset in the memory the kernels were instantiated on.
 */

import {
  encodeModule,
  F64,
  I32,
  V128,
  type ValueType,
  type WasmFunction,
  wasm as w,
} from './wasm-encoder.js';

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

/** A function whose parameters and locals are named; `build` gets their indices. */
function kernel(
  name: string,
  params: Record<string, ValueType>,
  locals: Record<string, ValueType>,
  result: ValueType | undefined,
  build: (at: Record<string, number>) => number[][],
): WasmFunction {
  const at: Record<string, number> = {};
  for (const [index, key] of [...Object.keys(params), ...Object.keys(locals)].entries()) {
    at[key] = index;
  }
  return {
    name,
    params: Object.values(params),
    locals: Object.values(locals),
    ...(result === undefined ? {} : { result }),
    body: build(at).flat(),
  };
}

const get = w.localGet;
const set = w.localSet;

/** `for (row = 0; row < rows; row++) body`. */
function ascending(row: number, rows: number, body: number[][]): number[][] {
  return [
    w.i32Const(0),
    set(row),
    w.loop(
      get(row),
      get(rows),
      w.i32GeS,
      w.brIf(1),
      ...body,
      get(row),
      w.i32Const(1),
      w.i32Add,
      set(row),
      w.br(0),
    ),
  ];
}

/** `for (row = rows - 1; row >= 0; row--) body`. */
function descending(row: number, rows: number, body: number[][]): number[][] {
  return [
    get(rows),
    w.i32Const(1),
    w.i32Sub,
    set(row),
    w.loop(
      get(row),
      w.i32Const(0),
      w.i32LtS,
      w.brIf(1),
      ...body,
      get(row),
      w.i32Const(1),
      w.i32Sub,
      set(row),
      w.br(0),
    ),
  ];
}

/** Pushes base + (index << shift). */
function element(base: number, index: number, shift: number): number[] {
  return [...get(base), ...get(index), ...w.i32Const(shift), ...w.i32Shl, ...w.i32Add];
}

/** Pushes the byte offset of the row's cell in a grid: grid + (padded[row] << 3). */
function cell(grid: number, padded: number, row: number): number[] {
  return [
    ...get(grid),
    ...element(padded, row, 2),
    ...w.i32Load(),
    ...w.i32Const(3),
    ...w.i32Shl,
    ...w.i32Add,
  ];
}

/** base := base + delta (both locals or parameters). */
function advance(base: number, delta: number): number[] {
  return [...get(base), ...get(delta), ...w.i32Add, ...set(base)];
}

/**
 * acc += (two float32 coefficients at coefficients+coefficientOffset, as f64) times (two f64
 * at values+valueOffset); the coefficient pair is left in `pair`.
 */
function pairProduct(
  acc: number,
  pair: number,
  coefficients: number,
  coefficientOffset: number,
  values: number,
  valueOffset: number,
): number[] {
  return [
    ...get(coefficients),
    ...w.v128Load64Zero(coefficientOffset),
    ...w.f64x2PromoteLowF32x4,
    ...w.localTee(pair),
    ...get(values),
    ...w.v128Load(valueOffset),
    ...w.f64x2Mul,
    ...get(acc),
    ...w.f64x2Add,
    ...set(acc),
  ];
}

/** sum += (one float32 coefficient, as f64) times (one f64); the coefficient is left in `one`. */
function singleProduct(
  sum: number,
  one: number,
  coefficients: number,
  coefficientOffset: number,
  values: number,
  valueOffset: number,
): number[] {
  return [
    ...get(coefficients),
    ...w.f32Load(coefficientOffset),
    ...w.f64PromoteF32,
    ...w.localTee(one),
    ...get(values),
    ...w.f64Load(valueOffset),
    ...w.f64Mul,
    ...get(sum),
    ...w.f64Add,
    ...set(sum),
  ];
}

/**
 * With a value on the stack, subtracts (one float32 coefficient, as f64) times (one f64). The
 * sweeps end with their own line's two cells, found this way: those were stored by the row
 * just before, and a two-lane load of two separate recent stores would stall.
 */
function minusProduct(
  coefficients: number,
  coefficientOffset: number,
  values: number,
  valueOffset: number,
): number[] {
  return [
    ...get(coefficients),
    ...w.f32Load(coefficientOffset),
    ...w.f64PromoteF32,
    ...get(values),
    ...w.f64Load(valueOffset),
    ...w.f64Mul,
    ...w.f64Sub,
  ];
}

/** Pushes sum + both lanes of acc. */
function total(sum: number, acc: number): number[] {
  return [
    ...get(sum),
    ...get(acc),
    ...w.f64x2ExtractLane(0),
    ...w.f64Add,
    ...get(acc),
    ...w.f64x2ExtractLane(1),
    ...w.f64Add,
  ];
}

/**
 * The symmetric product (see `multiplySymmetricStencil`): 13 float32 coefficients per row (52
 * bytes), the centre first; per stencil line of five cells the pairs (-2, -1) and (0, +1) go
 * through SIMD and +2 alone.
 */
const multiply = kernel(
  'multiply',
  {
    rows: I32,
    padded: I32,
    upper: I32,
    vector: I32,
    out: I32,
    values: I32,
    sums: I32,
    rowBytes: I32,
  },
  {
    row: I32,
    value: I32,
    sum: I32,
    coefficients: I32,
    line: I32,
    lineSum: I32,
    x: F64,
    scalar: F64,
    one: F64,
    energy: F64,
    xx: V128,
    acc: V128,
    pair: V128,
  },
  F64,
  (a) => {
    const x = a.x!;
    /** values pair product into acc, and sums pair += pair * x. */
    const both = (coefficientOffset: number, offset: number) => [
      pairProduct(a.acc!, a.pair!, a.coefficients!, coefficientOffset, a.line!, offset),
      get(a.lineSum!),
      get(a.lineSum!),
      w.v128Load(offset),
      get(a.pair!),
      get(a.xx!),
      w.f64x2Mul,
      w.f64x2Add,
      w.v128Store(offset),
    ];
    const bothSingle = (coefficientOffset: number, offset: number) => [
      singleProduct(a.scalar!, a.one!, a.coefficients!, coefficientOffset, a.line!, offset),
      get(a.lineSum!),
      get(a.lineSum!),
      w.f64Load(offset),
      get(a.one!),
      get(x),
      w.f64Mul,
      w.f64Add,
      w.f64Store(offset),
    ];
    return [
      // Scatter the vector into `values`, zero the rows' sums.
      ...ascending(a.row!, a.rows!, [
        cell(a.values!, a.padded!, a.row!),
        w.localTee(a.value!),
        element(a.vector!, a.row!, 3),
        w.f64Load(),
        w.f64Store(),
        get(a.value!),
        get(a.values!),
        w.i32Sub,
        get(a.sums!),
        w.i32Add,
        w.f64Const(0),
        w.f64Store(),
      ]),
      ...ascending(a.row!, a.rows!, [
        cell(a.values!, a.padded!, a.row!),
        set(a.value!),
        get(a.value!),
        get(a.values!),
        w.i32Sub,
        get(a.sums!),
        w.i32Add,
        set(a.sum!),
        get(a.upper!),
        get(a.row!),
        w.i32Const(52),
        w.i32Mul,
        w.i32Add,
        set(a.coefficients!),
        get(a.value!),
        w.f64Load(),
        w.localTee(x),
        w.f64x2Splat,
        set(a.xx!),
        // Centre, then (+1, +2) on the row's own line.
        get(a.coefficients!),
        w.f32Load(0),
        w.f64PromoteF32,
        get(x),
        w.f64Mul,
        set(a.scalar!),
        w.v128Zero,
        set(a.acc!),
        get(a.value!),
        set(a.line!),
        get(a.sum!),
        set(a.lineSum!),
        ...both(4, 8),
        // The next line (+1 row): cells -2..+2 from 16 bytes before the one below.
        get(a.value!),
        get(a.rowBytes!),
        w.i32Add,
        w.i32Const(16),
        w.i32Sub,
        set(a.line!),
        get(a.sum!),
        get(a.rowBytes!),
        w.i32Add,
        w.i32Const(16),
        w.i32Sub,
        set(a.lineSum!),
        ...both(12, 0),
        ...both(20, 16),
        ...bothSingle(28, 32),
        // The line after (+2 rows).
        advance(a.line!, a.rowBytes!),
        advance(a.lineSum!, a.rowBytes!),
        ...both(32, 0),
        ...both(40, 16),
        ...bothSingle(48, 32),
        get(a.sum!),
        get(a.sum!),
        w.f64Load(),
        total(a.scalar!, a.acc!),
        w.f64Add,
        w.f64Store(),
      ]),
      // Gather the sums into `out`; energy = vector . out.
      w.f64Const(0),
      set(a.energy!),
      ...ascending(a.row!, a.rows!, [
        element(a.out!, a.row!, 3),
        cell(a.sums!, a.padded!, a.row!),
        w.f64Load(),
        w.localTee(x),
        w.f64Store(),
        get(a.energy!),
        get(x),
        element(a.vector!, a.row!, 3),
        w.f64Load(),
        w.f64Mul,
        w.f64Add,
        set(a.energy!),
      ]),
      get(a.energy!),
    ];
  },
);

/** Forward sweep: 12 float32 coefficients per row (48 bytes): lines -2 and -1, then cells -2, -1. */
const forward = kernel(
  'forward',
  { rows: I32, padded: I32, lower: I32, residual: I32, grid: I32, rowBytes: I32 },
  {
    row: I32,
    value: I32,
    coefficients: I32,
    line: I32,
    scalar: F64,
    one: F64,
    acc: V128,
    pair: V128,
  },
  undefined,
  (a) => {
    const pair = (coefficientOffset: number, offset: number) =>
      pairProduct(a.acc!, a.pair!, a.coefficients!, coefficientOffset, a.line!, offset);
    const single = (coefficientOffset: number, offset: number) =>
      singleProduct(a.scalar!, a.one!, a.coefficients!, coefficientOffset, a.line!, offset);
    return ascending(a.row!, a.rows!, [
      cell(a.grid!, a.padded!, a.row!),
      set(a.value!),
      get(a.lower!),
      get(a.row!),
      w.i32Const(48),
      w.i32Mul,
      w.i32Add,
      set(a.coefficients!),
      w.v128Zero,
      set(a.acc!),
      w.f64Const(0),
      set(a.scalar!),
      // Cells -2..+2 of the line two rows up start 2 rows and 16 bytes before the row's cell.
      get(a.value!),
      get(a.rowBytes!),
      w.i32Const(1),
      w.i32Shl,
      w.i32Sub,
      w.i32Const(16),
      w.i32Sub,
      set(a.line!),
      pair(0, 0),
      pair(8, 16),
      single(16, 32),
      advance(a.line!, a.rowBytes!),
      pair(20, 0),
      pair(28, 16),
      single(36, 32),
      advance(a.line!, a.rowBytes!),
      get(a.value!),
      element(a.residual!, a.row!, 3),
      w.f64Load(),
      total(a.scalar!, a.acc!),
      w.f64Sub,
      // Cells -2 and -1 of the row's own line (line now starts 16 bytes before the cell).
      minusProduct(a.coefficients!, 40, a.line!, 0),
      minusProduct(a.coefficients!, 44, a.line!, 8),
      w.f64Store(),
    ]);
  },
);

/** Backward sweep: lines +1 and +2, then cells +1, +2 of the row's; returns residual . into. */
const backward = kernel(
  'backward',
  {
    rows: I32,
    padded: I32,
    upper: I32,
    inverseDiagonal: I32,
    forward: I32,
    backward: I32,
    into: I32,
    residual: I32,
    rowBytes: I32,
  },
  {
    row: I32,
    offset: I32,
    value: I32,
    coefficients: I32,
    line: I32,
    scalar: F64,
    one: F64,
    result: F64,
    product: F64,
    acc: V128,
    pair: V128,
  },
  F64,
  (a) => {
    const pair = (coefficientOffset: number, offset: number) =>
      pairProduct(a.acc!, a.pair!, a.coefficients!, coefficientOffset, a.line!, offset);
    const single = (coefficientOffset: number, offset: number) =>
      singleProduct(a.scalar!, a.one!, a.coefficients!, coefficientOffset, a.line!, offset);
    return [
      w.f64Const(0),
      set(a.product!),
      ...descending(a.row!, a.rows!, [
        element(a.padded!, a.row!, 2),
        w.i32Load(),
        w.i32Const(3),
        w.i32Shl,
        set(a.offset!),
        get(a.backward!),
        get(a.offset!),
        w.i32Add,
        set(a.value!),
        get(a.upper!),
        get(a.row!),
        w.i32Const(48),
        w.i32Mul,
        w.i32Add,
        set(a.coefficients!),
        w.v128Zero,
        set(a.acc!),
        w.f64Const(0),
        set(a.scalar!),
        get(a.value!),
        get(a.rowBytes!),
        w.i32Add,
        w.i32Const(16),
        w.i32Sub,
        set(a.line!),
        pair(8, 0),
        pair(16, 16),
        single(24, 32),
        advance(a.line!, a.rowBytes!),
        pair(28, 0),
        pair(36, 16),
        single(44, 32),
        // result = forward[cell] * inverseDiagonal[row] - the sums
        get(a.forward!),
        get(a.offset!),
        w.i32Add,
        w.f64Load(),
        element(a.inverseDiagonal!, a.row!, 3),
        w.f64Load(),
        w.f64Mul,
        total(a.scalar!, a.acc!),
        w.f64Sub,
        // Cells +1 and +2 of the row's own line, stored by the rows just before.
        minusProduct(a.coefficients!, 0, a.value!, 8),
        minusProduct(a.coefficients!, 4, a.value!, 16),
        set(a.result!),
        get(a.value!),
        get(a.result!),
        w.f64Store(),
        element(a.into!, a.row!, 3),
        get(a.result!),
        w.f64Store(),
        get(a.product!),
        get(a.result!),
        element(a.residual!, a.row!, 3),
        w.f64Load(),
        w.f64Mul,
        w.f64Add,
        set(a.product!),
      ]),
      get(a.product!),
    ];
  },
);

/** x += step p; r -= step q, two lanes at a time; returns r . r. */
const updateSolution = kernel(
  'updateSolution',
  { bytes: I32, x: I32, r: I32, p: I32, q: I32, step: F64 },
  { offset: I32, steps: V128, value: V128, acc: V128 },
  F64,
  (a) => {
    const at = (base: number) => [...get(base), ...get(a.offset!), ...w.i32Add];
    return [
      get(a.step!),
      w.f64x2Splat,
      set(a.steps!),
      w.v128Zero,
      set(a.acc!),
      ...ascending(a.offset!, a.bytes!, [
        at(a.x!),
        at(a.x!),
        w.v128Load(),
        at(a.p!),
        w.v128Load(),
        get(a.steps!),
        w.f64x2Mul,
        w.f64x2Add,
        w.v128Store(),
        at(a.r!),
        at(a.r!),
        w.v128Load(),
        at(a.q!),
        w.v128Load(),
        get(a.steps!),
        w.f64x2Mul,
        w.f64x2Sub,
        w.localTee(a.value!),
        w.v128Store(),
        get(a.value!),
        get(a.value!),
        w.f64x2Mul,
        get(a.acc!),
        w.f64x2Add,
        set(a.acc!),
        // The loop adds 1; make it 16.
        get(a.offset!),
        w.i32Const(15),
        w.i32Add,
        set(a.offset!),
      ]),
      get(a.acc!),
      w.f64x2ExtractLane(0),
      get(a.acc!),
      w.f64x2ExtractLane(1),
      w.f64Add,
    ];
  },
);

/** p = z + beta p, two lanes at a time. */
const updateDirection = kernel(
  'updateDirection',
  { bytes: I32, p: I32, z: I32, beta: F64 },
  { offset: I32, betas: V128 },
  undefined,
  (a) => {
    const at = (base: number) => [...get(base), ...get(a.offset!), ...w.i32Add];
    return [
      get(a.beta!),
      w.f64x2Splat,
      set(a.betas!),
      ...ascending(a.offset!, a.bytes!, [
        at(a.p!),
        at(a.z!),
        w.v128Load(),
        at(a.p!),
        w.v128Load(),
        get(a.betas!),
        w.f64x2Mul,
        w.f64x2Add,
        w.v128Store(),
        get(a.offset!),
        w.i32Const(15),
        w.i32Add,
        set(a.offset!),
      ]),
    ];
  },
);

let compiled: object | null | undefined;

/** The kernels' module, compiled once per thread; null where WebAssembly SIMD is missing. */
function compiledModule(): object | null {
  if (compiled !== undefined) return compiled;
  const bytes = encodeModule([multiply, forward, backward, updateSolution, updateDirection]);
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
