/**
 * A minimal WebAssembly binary encoder, enough to hand-assemble the matting solver's SIMD
 * kernels at run time without a toolchain: one module importing its memory as env.memory and
 * exporting functions whose parameters and locals are i32, f64 or v128. Instructions are
 * written as byte arrays through the helpers in `wasm`; see the WebAssembly core specification
 * (binary format, and the fixed-width SIMD proposal for the 0xfd-prefixed opcodes).
 */

/** Value types. */
export const I32 = 0x7f;
export const F64 = 0x7c;
export const V128 = 0x7b;
export type ValueType = typeof I32 | typeof F64 | typeof V128;

/** One exported function: its parameters, result, extra locals (after the parameters), code. */
export interface WasmFunction {
  name: string;
  params: ValueType[];
  result?: ValueType;
  locals: ValueType[];
  body: number[];
}

/** Unsigned LEB128. */
function unsigned(value: number): number[] {
  const bytes: number[] = [];
  let rest = value >>> 0;
  do {
    let byte = rest & 0x7f;
    rest >>>= 7;
    if (rest !== 0) byte |= 0x80;
    bytes.push(byte);
  } while (rest !== 0);
  return bytes;
}

/** Signed LEB128 (32-bit). */
function signed(value: number): number[] {
  const bytes: number[] = [];
  let rest = value | 0;
  for (;;) {
    const byte = rest & 0x7f;
    rest >>= 7;
    if ((rest === 0 && (byte & 0x40) === 0) || (rest === -1 && (byte & 0x40) !== 0)) {
      bytes.push(byte);
      return bytes;
    }
    bytes.push(byte | 0x80);
  }
}

function vector(items: number[][]): number[] {
  return [...unsigned(items.length), ...items.flat()];
}

function name(text: string): number[] {
  return [...unsigned(text.length), ...new TextEncoder().encode(text)];
}

function section(id: number, content: number[]): number[] {
  return [id, ...unsigned(content.length), ...content];
}

/** Locals run-length encoded, as the code section wants them. */
function localDeclarations(locals: ValueType[]): number[] {
  const groups: number[][] = [];
  for (let i = 0; i < locals.length; ) {
    let j = i;
    while (j < locals.length && locals[j] === locals[i]) j++;
    groups.push([...unsigned(j - i), locals[i]!]);
    i = j;
  }
  return vector(groups);
}

/** Encodes a module that imports env.memory (at least `minimumPages` pages) and exports `functions`. */
export function encodeModule(functions: WasmFunction[], minimumPages = 1): Uint8Array {
  const types = functions.map((f) => [
    0x60,
    ...vector(f.params.map((type) => [type])),
    ...vector(f.result === undefined ? [] : [[f.result]]),
  ]);
  const memoryImport = [...name('env'), ...name('memory'), 0x02, 0x00, ...unsigned(minimumPages)];
  const bodies = functions.map((f) => {
    const code = [...localDeclarations(f.locals), ...f.body, 0x0b];
    return [...unsigned(code.length), ...code];
  });
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vector(types)),
    ...section(2, vector([memoryImport])),
    ...section(3, vector(functions.map((_, index) => unsigned(index)))),
    ...section(7, vector(functions.map((f, index) => [...name(f.name), 0x00, ...unsigned(index)]))),
    ...section(10, vector(bodies)),
  ]);
}

const simd = (opcode: number, ...immediates: number[]): number[] => [
  0xfd,
  ...unsigned(opcode),
  ...immediates,
];
/** A memory access's immediates: alignment (log2 bytes) and a constant byte offset. */
const memory = (alignment: number, offset: number): number[] => [alignment, ...unsigned(offset)];

/** Instructions, each as its bytes. Loads and stores take a constant byte offset. */
export const wasm = {
  localGet: (index: number) => [0x20, ...unsigned(index)],
  localSet: (index: number) => [0x21, ...unsigned(index)],
  localTee: (index: number) => [0x22, ...unsigned(index)],
  i32Const: (value: number) => [0x41, ...signed(value)],
  f64Const: (value: number) => [0x44, ...new Uint8Array(new Float64Array([value]).buffer)],
  i32Add: [0x6a],
  i32Sub: [0x6b],
  i32Mul: [0x6c],
  i32Shl: [0x74],
  i32LtS: [0x48],
  i32GeS: [0x4e],
  f64Add: [0xa0],
  f64Sub: [0xa1],
  f64Mul: [0xa2],
  f64PromoteF32: [0xbb],
  i32Load: (offset = 0) => [0x28, ...memory(2, offset)],
  f32Load: (offset = 0) => [0x2a, ...memory(2, offset)],
  f64Load: (offset = 0) => [0x2b, ...memory(3, offset)],
  f64Store: (offset = 0) => [0x39, ...memory(3, offset)],
  /** Two f64 (16 bytes). */
  v128Load: (offset = 0) => simd(0x00, ...memory(3, offset)),
  v128Store: (offset = 0) => simd(0x0b, ...memory(3, offset)),
  /** Two f32 into the low half, the high half zero. */
  v128Load64Zero: (offset = 0) => simd(0x5d, ...memory(2, offset)),
  v128Zero: simd(0x0c, ...new Array<number>(16).fill(0)),
  f64x2Splat: simd(0x14),
  f64x2ExtractLane: (lane: number) => simd(0x21, lane),
  f64x2PromoteLowF32x4: simd(0x5f),
  f64x2Add: simd(0xf0),
  f64x2Sub: simd(0xf1),
  f64x2Mul: simd(0xf2),
  /** `block` with no result holding a `loop`: inside, branch 0 repeats and branch 1 leaves. */
  loop: (...body: number[][]) => [0x02, 0x40, 0x03, 0x40, ...body.flat(), 0x0b, 0x0b],
  br: (depth: number) => [0x0c, ...unsigned(depth)],
  brIf: (depth: number) => [0x0d, ...unsigned(depth)],
};
