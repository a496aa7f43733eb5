import { performance } from 'node:perf_hooks';
import type { Sharp } from 'sharp';
import type { RawImage } from './decode.js';

/**
 * PNG encoding, written here rather than by libvips: no libvips setting is both small and fast.
 * Measured on u2netp cut-outs of the fixture photos at 1 and 12 MP (`npm run bench:png`), against
 * a standard PNG of the same pixels (zlib level 6, adaptive filtering): libvips at level 1
 * without filtering, used before, wrote 1.8-3.9x the standard size; with adaptive filtering it
 * needs level 4 to stay under 1.1x at 12 MP, and takes several times as long.
 *
 * Every row is filtered with Paeth (the adaptive heuristic picks it for 64-100% of the rows of
 * those cut-outs; trying all five filters is five times the work), and the filtered bytes are
 * deflated the way zlib's run-length strategy (Z_RLE) does: literals, and runs of the byte before
 * them, which is what filtered photo rows and the zeros of transparent areas are made of; one
 * dynamic Huffman block per band of rows. That comes to 0.90-1.07x the standard size. It is not
 * zlib, whose Z_RLE took about as long for a 1 MP cut-out as libvips' whole level-1 encode: the
 * work runs as WebAssembly, 16 bytes a step where it can (Paeth filtering, Adler-32, spotting
 * where no run can start, interleaving RGB and alpha), which took half the time libvips did.
 * The kernel is assembled from its instructions at the end of this file: no build step, no
 * binary file.
 */

/** Bytes of filtered rows per band: one deflate block each (at least one row). */
const bandBytes = 512 * 1024;

const colourTypes: Record<number, number> = { 1: 0, 2: 4, 3: 2, 4: 6 };

/**
 * RGB pixels and a separate alpha plane (one byte per pixel), written as RGBA without
 * interleaving them first. The colour of a pixel whose alpha is 0 is written as black: it is
 * invisible, and black areas compress to almost nothing.
 */
export interface RgbAndAlpha {
  rgb: RawImage;
  alpha: Uint8Array;
}

/**
 * Encodes pixels as an 8-bit PNG: grey, grey+alpha, RGB or RGBA after the channel count (RGBA
 * for `RgbAndAlpha`). A sharp pipeline is run to raw 8-bit pixels first.
 */
export async function encodePng(image: RawImage | RgbAndAlpha | Sharp): Promise<Buffer> {
  if ('alpha' in image && 'rgb' in image) return encodeRgbAndAlpha(image);
  if (isRawImage(image)) {
    return encodeRawPng(image.data, image.width, image.height, image.channels);
  }
  const { data, info } = await image.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  return encodeRawPng(data, info.width, info.height, info.channels);
}

function isRawImage(image: RawImage | Sharp): image is RawImage {
  return 'channels' in image && Buffer.isBuffer((image as RawImage).data);
}

/** Encodes interleaved 8-bit pixels (1 to 4 channels, rows unpadded) as a PNG. */
export function encodeRawPng(
  pixels: Uint8Array,
  width: number,
  height: number,
  channels: number,
): Promise<Buffer> {
  if (pixels.length !== width * height * channels) {
    throw new Error(`encodePng: ${pixels.length} bytes do not make ${width}x${height}x${channels}`);
  }
  return encodeRows(width, height, channels, (heap, at, _scratch, top, rows) => {
    heap.set(pixels.subarray(top * width * channels, (top + rows) * width * channels), at);
  });
}

function encodeRgbAndAlpha({ rgb, alpha }: RgbAndAlpha): Promise<Buffer> {
  const { width, height } = rgb;
  if (rgb.channels !== 3 || alpha.length !== width * height) {
    throw new Error('encodePng: expected RGB pixels and one alpha byte per pixel');
  }
  return encodeRows(width, height, 4, (heap, at, scratch, top, rows, kernel) => {
    const count = rows * width;
    const rgbAt = scratch;
    const alphaAt = rgbAt + count * 3 + pad;
    heap.set(rgb.data.subarray(top * width * 3, (top + rows) * width * 3), rgbAt);
    heap.set(alpha.subarray(top * width, (top + rows) * width), alphaAt);
    kernel.interleave(rgbAt, alphaAt, at, count);
  });
}

/**
 * Puts `rows` rows of pixels from `top` down at `at` in the kernel's memory. From `scratch` on,
 * as many bytes as the rows take, plus twice `pad`, are free for its own use.
 */
type LoadRows = (
  heap: Uint8Array,
  at: number,
  scratch: number,
  top: number,
  rows: number,
  kernel: Kernel,
) => void;

/** Give the event loop a turn after this long without one (a 12 MP picture takes ~0.15 s). */
const yieldAfterMs = 8;

async function encodeRows(
  width: number,
  height: number,
  channels: number,
  load: LoadRows,
): Promise<Buffer> {
  const colourType = colourTypes[channels];
  if (colourType === undefined) throw new Error(`encodePng: cannot write ${channels} channels`);
  if (!(width > 0 && height > 0)) throw new Error(`encodePng: no pixels (${width}x${height})`);
  const stride = width * channels;
  const rowsPerBand = Math.max(1, Math.floor(bandBytes / (stride + 1)));
  const layout = bandLayout(stride, rowsPerBand);
  const kernel = kernelWithRoom(layout.end);

  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bits per channel
  header[9] = colourType;
  const parts: Buffer[] = [pngSignature, ...chunk('IHDR', [header], kernel)];
  // One deflate block and one IDAT per band; the zlib header opens the first, the Adler-32
  // closes the last. Bits that do not fill a byte at the end of a band go with the next.
  const pending = { bits: 0, count: 0 };
  let adler = 1;
  let turn = performance.now();
  for (let top = 0; top < height; top += rowsPerBand) {
    if (performance.now() - turn > yieldAfterMs) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      turn = performance.now();
    }
    // Everything from here to the IDAT is synchronous: other encodings share the kernel.
    const rows = Math.min(rowsPerBand, height - top);
    const last = top + rows === height;
    const heap = kernel.heap();
    if (top === 0) {
      heap.fill(0, layout.above, layout.above + stride);
      load(heap, layout.source, layout.tokens, top, rows, kernel);
    } else {
      load(heap, layout.above, layout.tokens, top - 1, rows + 1, kernel);
    }
    kernel.paethRows(layout.source, layout.filtered, rows, stride, channels);
    const length = rows * (stride + 1);
    adler = kernel.adler32(layout.filtered, length, adler);
    const data = [deflateBlock(kernel, layout, length, last, pending)];
    if (top === 0) data.unshift(zlibHeader);
    if (last) {
      const checksum = Buffer.alloc(4);
      checksum.writeUInt32BE(adler >>> 0, 0);
      data.push(checksum);
    }
    parts.push(...chunk('IDAT', data, kernel));
  }
  parts.push(...chunk('IEND', [], kernel));
  return Buffer.concat(parts);
}

/** Where a band's buffers lie in the kernel's memory, each 16-byte aligned. */
function bandLayout(stride: number, rows: number) {
  const filteredBytes = rows * (stride + 1);
  let at = kernelBase;
  const next = (bytes: number) => {
    const start = at;
    at = Math.ceil((at + bytes) / 16) * 16;
    return start;
  };
  // The row above the band, right before the band's rows.
  const above = next(stride + rows * stride + pad);
  return {
    above,
    source: above + stride,
    filtered: next(filteredBytes + pad),
    // Also the scratch `load` may use, which it is done with before tokens are written.
    tokens: next(Math.max(2 * (filteredBytes + 1), (rows + 1) * stride + pad) + pad),
    histograms: next(4 * histogramStride),
    codes: next(515 * 4),
    state: next(16),
    // An optimal code is no longer than deflate's fixed one: at most 9 bits a literal.
    out: next(filteredBytes + (filteredBytes >> 2) + 1024 + pad),
    end: at,
  };
}

type BandLayout = ReturnType<typeof bandLayout>;

/**
 * Deflates the band's filtered bytes as one dynamic-Huffman block, tokenised the way zlib's
 * Z_RLE strategy does (literals and runs at distance 1). Returns the whole bytes written,
 * starting with the bits `pending` from the band before and leaving in it the bits that do not
 * fill a byte (none after the last band, which is padded to a byte).
 */
function deflateBlock(
  kernel: Kernel,
  layout: BandLayout,
  length: number,
  last: boolean,
  pending: { bits: number; count: number },
): Buffer {
  const heap = kernel.heap();
  heap.fill(0, layout.histograms, layout.histograms + 4 * histogramStride);
  const count = kernel.tokenize(
    layout.filtered,
    length,
    layout.tokens,
    layout.histograms,
    lengthCodesAt,
  );
  const words = new Uint32Array(heap.buffer);
  new Uint16Array(heap.buffer)[(layout.tokens >> 1) + count] = endOfBlock;
  const frequencies = new Uint32Array(286);
  for (let histogram = 0; histogram < 4; histogram++) {
    const base = (layout.histograms + histogram * histogramStride) >> 2;
    for (let symbol = 0; symbol < 286; symbol++) frequencies[symbol]! += words[base + symbol]!;
  }
  frequencies[endOfBlock] = 1;
  const literalLengths = huffmanLengths(frequencies, 15);
  const literalCodes = canonicalCodes(literalLengths);
  let literalCount = 286;
  while (literalLengths[literalCount - 1] === 0) literalCount--;
  // The code lengths of the lit/length code, then of the distance code: one code (distance 1,
  // code 0), one bit long.
  const lengths = [...literalLengths.subarray(0, literalCount), 1];
  const runs = runLengths(lengths);
  const runFrequencies = new Uint32Array(19);
  for (const [symbol] of runs) runFrequencies[symbol]!++;
  // A code-length code needs two codes to be complete.
  if (runFrequencies.filter((n) => n > 0).length < 2) runFrequencies[runFrequencies[0] ? 1 : 0] = 1;
  const runLengthsOfCode = huffmanLengths(runFrequencies, 7);
  const runCodes = canonicalCodes(runLengthsOfCode);
  let orderCount = 19;
  while (orderCount > 4 && runLengthsOfCode[codeLengthOrder[orderCount - 1]!] === 0) orderCount--;

  const writer = new BitWriter(heap, layout.out, pending);
  writer.put(last ? 1 : 0, 1);
  writer.put(2, 2); // dynamic Huffman codes
  writer.put(literalCount - 257, 5);
  writer.put(0, 5); // one distance code
  writer.put(orderCount - 4, 4);
  for (let k = 0; k < orderCount; k++) writer.put(runLengthsOfCode[codeLengthOrder[k]!]!, 3);
  for (const [symbol, extra] of runs) {
    writer.put(runCodes[symbol]!, runLengthsOfCode[symbol]!);
    if (symbol >= 16) writer.put(extra, [2, 3, 7][symbol - 16]!);
  }

  // Each token's code: a literal's or end of block's own; a run's length code, its extra bits
  // and the distance code's single 0 bit.
  const codes = new Uint32Array(heap.buffer, layout.codes, 515);
  for (let symbol = 0; symbol <= endOfBlock; symbol++) {
    codes[symbol] = literalCodes[symbol]! | (literalLengths[symbol]! << 24);
  }
  for (let run = 3; run <= 258; run++) {
    const code = lengthCode[run]!;
    const symbol = 257 + code;
    const bits = literalLengths[symbol]!;
    codes[256 + run] =
      literalCodes[symbol]! |
      ((run - lengthBase[code]!) << bits) |
      ((bits + lengthExtraBits[code]! + 1) << 24);
  }
  let end = kernel.emit(
    layout.tokens,
    count + 1,
    layout.codes,
    writer.at,
    writer.bits,
    writer.count,
    layout.state,
  );
  pending.bits = words[layout.state >> 2]!;
  pending.count = words[(layout.state >> 2) + 1]!;
  if (last) {
    for (; pending.count > 0; pending.count -= 8) {
      heap[end++] = pending.bits & 0xff;
      pending.bits >>>= 8;
    }
    pending.count = 0;
  }
  return Buffer.from(heap.subarray(layout.out, end));
}

const endOfBlock = 256;

/** The first run length of each deflate length code, and its count of extra bits. */
const lengthBase = [
  3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131,
  163, 195, 227, 258,
];
const lengthExtraBits = [
  0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];
/** The deflate length code (0-28) of each run length 0-258. */
const lengthCode = (() => {
  const codes = new Uint8Array(259);
  for (let code = 0; code < 29; code++) {
    const end = code === 28 ? 259 : lengthBase[code + 1]!;
    for (let run = lengthBase[code]!; run < end; run++) codes[run] = code;
  }
  codes[258] = 28;
  return codes;
})();

/** The order in which a dynamic block lists the code-length code's lengths. */
const codeLengthOrder = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

/**
 * Huffman code lengths for the symbols with non-zero frequency, none over `limit` bits: an
 * optimal code (two-queue construction over the sorted frequencies), then, if it is too deep,
 * the longest codes shortened and others lengthened until the lengths fit (as miniz does).
 */
function huffmanLengths(frequencies: Uint32Array, limit: number): Uint8Array {
  const lengths = new Uint8Array(frequencies.length);
  const symbols: number[] = [];
  for (let symbol = 0; symbol < frequencies.length; symbol++) {
    if (frequencies[symbol]) symbols.push(symbol);
  }
  const used = symbols.length;
  if (used === 0) return lengths;
  if (used === 1) {
    lengths[symbols[0]!] = 1;
    return lengths;
  }
  symbols.sort((a, b) => frequencies[a]! - frequencies[b]! || a - b);
  const weight = new Float64Array(2 * used - 1);
  const parent = new Int32Array(2 * used - 1);
  for (let k = 0; k < used; k++) weight[k] = frequencies[symbols[k]!]!;
  let leaf = 0;
  let node = used;
  for (let next = used; next < 2 * used - 1; next++) {
    for (let pick = 0; pick < 2; pick++) {
      const chosen =
        leaf < used && (node >= next || weight[leaf]! <= weight[node]!) ? leaf++ : node++;
      parent[chosen] = next;
      weight[next]! += weight[chosen]!;
    }
  }
  const depth = new Uint16Array(2 * used - 1);
  for (let k = 2 * used - 3; k >= 0; k--) depth[k] = depth[parent[k]!]! + 1;
  const counts = new Array<number>(used + 1).fill(0);
  for (let k = 0; k < used; k++) counts[depth[k]!]!++;
  if (counts.length > limit + 1) {
    for (let length = limit + 1; length < counts.length; length++) {
      counts[limit]! += counts[length]!;
      counts[length] = 0;
    }
    let total = 0;
    for (let length = limit; length > 0; length--) total += counts[length]! * 2 ** (limit - length);
    while (total !== 2 ** limit) {
      counts[limit]!--;
      for (let length = limit - 1; length > 0; length--) {
        if (counts[length]) {
          counts[length]!--;
          counts[length + 1]! += 2;
          break;
        }
      }
      total--;
    }
  }
  // The rarest symbols get the longest codes.
  let k = 0;
  for (let length = counts.length - 1; length > 0; length--) {
    for (let n = counts[length]!; n > 0; n--) lengths[symbols[k++]!] = length;
  }
  return lengths;
}

/** Canonical Huffman codes for the lengths, bit-reversed (deflate sends codes from the top bit). */
function canonicalCodes(lengths: Uint8Array): Uint32Array {
  const perLength = new Array<number>(16).fill(0);
  for (const length of lengths) if (length) perLength[length]!++;
  const next = new Array<number>(16).fill(0);
  for (let length = 1, code = 0; length < 16; length++) {
    code = (code + perLength[length - 1]!) << 1;
    next[length] = code;
  }
  const codes = new Uint32Array(lengths.length);
  for (let symbol = 0; symbol < lengths.length; symbol++) {
    const length = lengths[symbol]!;
    if (!length) continue;
    let code = next[length]!++;
    let reversed = 0;
    for (let bit = 0; bit < length; bit++, code >>= 1) reversed = (reversed << 1) | (code & 1);
    codes[symbol] = reversed;
  }
  return codes;
}

/**
 * Code lengths as the code-length alphabet writes them: 0-15 as themselves, 16 to repeat the
 * previous 3-6 times, 17 and 18 for 3-10 and 11-138 zeros; each with its extra bits' value.
 */
function runLengths(lengths: number[]): [symbol: number, extra: number][] {
  const out: [number, number][] = [];
  for (let k = 0; k < lengths.length; ) {
    const length = lengths[k]!;
    let run = 1;
    while (k + run < lengths.length && lengths[k + run] === length) run++;
    if (length === 0 && run >= 3) {
      const taken = Math.min(run, 138);
      out.push(taken >= 11 ? [18, taken - 11] : [17, taken - 3]);
      k += taken;
    } else if (length !== 0 && run >= 4) {
      const repeats = Math.min(run - 1, 6);
      out.push([length, 0], [16, repeats - 3]);
      k += 1 + repeats;
    } else {
      out.push([length, 0]);
      k++;
    }
  }
  return out;
}

/** Writes bits, least significant first, to the kernel's memory from `at` on. */
class BitWriter {
  bits: number;
  count: number;
  constructor(
    private readonly heap: Uint8Array,
    public at: number,
    pending: { bits: number; count: number },
  ) {
    this.bits = pending.bits;
    this.count = pending.count;
    this.flush();
  }

  /** Appends the `count` low bits of `value` (at most 16). */
  put(value: number, count: number): void {
    this.bits |= value << this.count;
    this.count += count;
    this.flush();
  }

  private flush(): void {
    for (; this.count >= 8; this.count -= 8) {
      this.heap[this.at++] = this.bits & 0xff;
      this.bits >>>= 8;
    }
  }
}

const pngSignature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** CMF 0x78 (deflate, 32 KiB window), FLG 0x01 (fastest; no dictionary; check bits). */
const zlibHeader = Buffer.from([0x78, 0x01]);

/** A PNG chunk as pieces to concatenate: length and type, the data, CRC. */
function chunk(type: string, data: Buffer[], kernel: Kernel): Buffer[] {
  const head = Buffer.allocUnsafe(8);
  head.writeUInt32BE(
    data.reduce((sum, piece) => sum + piece.length, 0),
    0,
  );
  head.write(type, 4, 'latin1');
  let crc = kernel.crc32(head.subarray(4), 0);
  for (const piece of data) crc = kernel.crc32(piece, crc);
  const tail = Buffer.allocUnsafe(4);
  tail.writeUInt32BE(crc, 0);
  return [head, ...data, tail];
}

/**
 * CRC-32 tables for slicing by 8 (PNG's CRC: reflected polynomial 0xedb88320), one after the
 * other: table k gives the CRC of a byte followed by k zero bytes.
 */
function crcTables(): Int32Array {
  const tables = new Int32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    tables[n] = c;
  }
  for (let t = 1; t < 8; t++) {
    for (let n = 0; n < 256; n++) {
      const previous = tables[(t - 1) * 256 + n]!;
      tables[t * 256 + n] = tables[previous & 0xff]! ^ (previous >>> 8);
    }
  }
  return tables;
}

// --- The WebAssembly kernel -------------------------------------------------------------------

/**
 * Slack after each buffer in the kernel's memory: the SIMD loops read and write whole vectors,
 * up to 64 bytes past the end.
 */
const pad = 64;

interface Kernel {
  /** The kernel's memory as bytes (a new view after the memory grows). */
  heap(): Uint8Array;
  /**
   * Writes `rows` rows from `source` (the row above it at `source - stride`) to `target` as
   * PNG rows: filter type 4 (Paeth), then the filtered bytes.
   */
  paethRows(source: number, target: number, rows: number, stride: number, bpp: number): void;
  /** Continues an Adler-32 over `length` bytes at `at`. */
  adler32(at: number, length: number, adler: number): number;
  /**
   * Writes `count` pixels of RGB at `rgb` and alpha at `alpha` to `target` as RGBA, with the
   * colour of pixels whose alpha is 0 as 0.
   */
  interleave(rgb: number, alpha: number, target: number, count: number): void;
  /** CRC-32 of `bytes`, continuing from `previous`, the CRC of what came before them. */
  crc32(bytes: Uint8Array, previous: number): number;
  /** Splits bytes into deflate tokens and counts their symbols: see `tokenize` below. */
  tokenize(
    source: number,
    length: number,
    tokens: number,
    histograms: number,
    lengthCodes: number,
  ): number;
  /** Writes tokens' Huffman codes as bits: see `emit` below. */
  emit(
    tokens: number,
    count: number,
    codes: number,
    out: number,
    bits: number,
    bitCount: number,
    state: number,
  ): number;
}

/**
 * The kernel's memory: the CRC tables, room to copy bytes to for their CRC, then what each
 * encoding uses, from `kernelBase` on.
 */
const crcTablesAt = 0;
const lengthCodesAt = crcTablesAt + 8 * 256 * 4;
const crcScratchAt = lengthCodesAt + 272;
const crcScratchBytes = 65536;
const kernelBase = crcScratchAt + crcScratchBytes;

/** The part of the WebAssembly API used here (the DOM lib, which declares it, is not loaded). */
interface WasmApi {
  Memory: new (descriptor: {
    initial: number;
  }) => { readonly buffer: ArrayBuffer; grow(pages: number): number };
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: object };
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

let loaded: { memory: InstanceType<WasmApi['Memory']>; exports: Kernel } | undefined;

/** The kernel (compiled on first use), its memory grown to at least `bytes`. */
function kernelWithRoom(bytes: number): Kernel {
  if (!loaded) {
    const memory = new wasm.Memory({ initial: 1 });
    const instance = new wasm.Instance(new wasm.Module(kernelModule()), {
      env: { memory },
    });
    const exports = instance.exports as unknown as Omit<Kernel, 'heap' | 'crc32'> & {
      crc32(at: number, length: number, crc: number): number;
    };
    memory.grow(Math.ceil(kernelBase / 65536));
    new Int32Array(memory.buffer, crcTablesAt, 8 * 256).set(crcTables());
    new Uint8Array(memory.buffer, lengthCodesAt, 259).set(lengthCode);
    loaded = {
      memory,
      exports: {
        heap: () => new Uint8Array(memory.buffer),
        paethRows: exports.paethRows,
        adler32: (at, length, adler) => exports.adler32(at, length, adler) >>> 0,
        interleave: exports.interleave,
        tokenize: exports.tokenize,
        emit: exports.emit,
        crc32: (bytes, previous) => {
          const heap = new Uint8Array(memory.buffer);
          let crc = previous;
          for (let from = 0; from < bytes.length; from += crcScratchBytes) {
            const piece = bytes.subarray(from, from + crcScratchBytes);
            heap.set(piece, crcScratchAt);
            crc = exports.crc32(crcScratchAt, piece.length, crc);
          }
          return crc >>> 0;
        },
      },
    };
  }
  const missing = bytes - loaded.memory.buffer.byteLength;
  if (missing > 0) loaded.memory.grow(Math.ceil(missing / 65536));
  return loaded.exports;
}

/*
 * The kernel, assembled here from WebAssembly text instructions (one after another, as in a
 * flat .wat function body), so that no build step or binary file is needed.
 */

/** Locals of a kernel function, numbered after its (i32) parameters. */
interface KernelLocals {
  i32?: string[];
  i64?: string[];
  v128?: string[];
}

interface KernelFunction {
  name: string;
  params: string[];
  result: boolean;
  locals: KernelLocals;
  code: string;
}

const valueTypes = { i32: 0x7f, i64: 0x7e, v128: 0x7b } as const;

/** Opcodes by text name; SIMD ones (after the 0xfd prefix) as numbers to LEB-encode. */
const plainOpcodes: Record<string, number> = {
  else: 0x05,
  end: 0x0b,
  select: 0x1b,
  'i32.eqz': 0x45,
  'i32.eq': 0x46,
  'i32.ne': 0x47,
  'i32.lt_u': 0x49,
  'i32.le_s': 0x4c,
  'i32.le_u': 0x4d,
  'i32.ge_u': 0x4f,
  'i32.ctz': 0x68,
  'i32.add': 0x6a,
  'i32.sub': 0x6b,
  'i32.rem_u': 0x70,
  'i32.and': 0x71,
  'i32.or': 0x72,
  'i32.xor': 0x73,
  'i32.shl': 0x74,
  'i32.shr_u': 0x76,
  'i64.add': 0x7c,
  'i64.mul': 0x7e,
  'i64.rem_u': 0x82,
  'i64.or': 0x84,
  'i64.shl': 0x86,
  'i64.shr_u': 0x88,
  'i32.wrap_i64': 0xa7,
  'i64.extend_i32_u': 0xad,
};
const memoryOpcodes: Record<string, number> = {
  'i32.load': 0x28,
  'i32.load8_u': 0x2d,
  'i32.load16_u': 0x2f,
  'i32.store': 0x36,
  'i32.store8': 0x3a,
  'i32.store16': 0x3b,
  'i64.store32': 0x3e,
};
const simdOpcodes: Record<string, number> = {
  'v128.load': 0x00,
  'v128.store': 0x0b,
  'i8x16.splat': 0x0f,
  'i8x16.eq': 0x23,
  'i16x8.le_s': 0x33,
  'v128.and': 0x4e,
  'v128.andnot': 0x4f,
  'v128.bitselect': 0x52,
  'i8x16.all_true': 0x63,
  'i8x16.bitmask': 0x64,
  'i8x16.narrow_i16x8_s': 0x65,
  'i8x16.sub': 0x71,
  'i16x8.extadd_pairwise_i8x16_u': 0x7d,
  'i32x4.extadd_pairwise_i16x8_u': 0x7f,
  'i16x8.abs': 0x80,
  'i16x8.extend_low_i8x16_u': 0x89,
  'i16x8.extend_high_i8x16_u': 0x8a,
  'i16x8.add': 0x8e,
  'i16x8.sub': 0x91,
  'i32x4.add': 0xae,
  'i32x4.dot_i16x8_s': 0xba,
};

/** Assembles a function body: instructions and their immediates, `;;` comments. */
function assemble(code: string, localIndex: Map<string, number>): number[] {
  const words = code
    .replace(/;;[^\n]*/g, ' ')
    .split(/\s+/)
    .filter(Boolean);
  const out: number[] = [];
  for (let k = 0; k < words.length; k++) {
    const word = words[k]!;
    const immediate = () => {
      const value = Number(words[++k]);
      if (!Number.isInteger(value)) throw new Error(`kernel: ${word} needs a number`);
      return value;
    };
    const offset = () => {
      const next = words[k + 1];
      if (!next?.startsWith('offset=')) return 0;
      k++;
      return Number(next.slice('offset='.length));
    };
    if (word === 'block' || word === 'loop' || word === 'if') {
      out.push({ block: 0x02, loop: 0x03, if: 0x04 }[word], 0x40);
    } else if (word.startsWith('local.')) {
      const index = localIndex.get(words[++k]!);
      if (index === undefined) throw new Error(`kernel: no local ${words[k]}`);
      out.push({ 'local.get': 0x20, 'local.set': 0x21, 'local.tee': 0x22 }[word]!, ...u32(index));
    } else if (word === 'br' || word === 'br_if') {
      out.push(word === 'br' ? 0x0c : 0x0d, ...u32(immediate()));
    } else if (word === 'i32.const' || word === 'i64.const') {
      out.push(word === 'i32.const' ? 0x41 : 0x42, ...s64(immediate()));
    } else if (word in memoryOpcodes) {
      out.push(memoryOpcodes[word]!, 0, ...u32(offset()));
    } else if (word === 'v128.load' || word === 'v128.store') {
      out.push(0xfd, ...u32(simdOpcodes[word]!), 0, ...u32(offset()));
    } else if (word === 'i8x16.shuffle') {
      out.push(0xfd, ...u32(0x0d), ...Array.from({ length: 16 }, immediate));
    } else if (word === 'i32x4.extract_lane') {
      out.push(0xfd, ...u32(0x1b), immediate());
    } else if (word === 'v128.const') {
      const shape = words[++k];
      const lanes =
        shape === 'i8x16'
          ? Array.from({ length: 16 }, immediate)
          : Array.from({ length: 8 }, immediate).flatMap((lane) => [
              lane & 0xff,
              (lane >> 8) & 0xff,
            ]);
      out.push(0xfd, ...u32(0x0c), ...lanes);
    } else if (word in simdOpcodes) {
      out.push(0xfd, ...u32(simdOpcodes[word]!));
    } else if (word in plainOpcodes) {
      out.push(plainOpcodes[word]!);
    } else {
      throw new Error(`kernel: unknown instruction ${word}`);
    }
  }
  return out;
}

function u32(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n) byte |= 0x80;
    out.push(byte);
  } while (n);
  return out;
}

function s64(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(byte & 0x40)) || (n === -1 && byte & 0x40)) return [...out, byte];
    out.push(byte | 0x80);
  }
}

const vector = (items: number[][]): number[] => [...u32(items.length), ...items.flat()];
const name = (text: string): number[] => vector([...text].map((c) => [c.charCodeAt(0)]));
const section = (id: number, body: number[]): number[] => [id, ...u32(body.length), ...body];
const lanes = (from: number, count: number) =>
  Array.from({ length: count }, (_, k) => from + k).join(' ');

/** The module: the functions below, importing its memory as env.memory. */
function kernelModule(): Uint8Array {
  const functions = [paethRows, adler32, interleave, crc32, tokenize, emit];
  const types = functions.map(({ params, result }) => [
    0x60,
    ...vector(params.map(() => [valueTypes.i32])),
    ...vector(result ? [[valueTypes.i32]] : []),
  ]);
  const bodies = functions.map(({ params, locals, code }) => {
    const localIndex = new Map(params.map((param, index) => [param, index]));
    const groups: number[][] = [];
    for (const type of ['i32', 'i64', 'v128'] as const) {
      const names = locals[type] ?? [];
      for (const local of names) localIndex.set(local, localIndex.size);
      if (names.length) groups.push([...u32(names.length), valueTypes[type]]);
    }
    const body = [...vector(groups), ...assemble(code, localIndex), 0x0b];
    return [...u32(body.length), ...body];
  });
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vector(types)),
    ...section(2, vector([[...name('env'), ...name('memory'), 0x02, 0x00, 0x01]])),
    ...section(3, vector(functions.map((_, index) => u32(index)))),
    ...section(7, vector(functions.map((f, index) => [...name(f.name), 0x00, ...u32(index)]))),
    ...section(10, vector(bodies)),
  ]);
}

/**
 * paethRows(source, target, rows, stride, bpp). Per row: target[0] = 4, then for each byte x
 * with left a, above b, above-left c (0 off the left edge):
 *   p = a + b - c; predictor = a if |p-a| <= |p-b| and |p-a| <= |p-c|, else b if |p-b| <= |p-c|,
 *   else c; out = x - predictor (mod 256).
 * |p-a| = |b-c|, |p-b| = |a-c|, |p-c| = |(b-c) + (a-c)|, computed in 16-bit lanes. The first bpp
 * bytes (a = c = 0, so the predictor is b) go one by one, the rest 16 at a time; the last step
 * of a row may run past it, into the next row's bytes, which that row then writes, or into
 * the padding after the last.
 */
const paethRows: KernelFunction = {
  name: 'paethRows',
  params: ['source', 'target', 'rows', 'stride', 'bpp'],
  result: false,
  locals: {
    i32: ['row', 'i', 's', 'p', 'd'],
    v128: ['a', 'b', 'c', 'paLow', 'pbLow', 'pcLow', 'paHigh', 'pbHigh', 'pcHigh'],
  },
  code: (() => {
    const distances = (half: 'low' | 'high') => {
      const widen = `i16x8.extend_${half}_i8x16_u`;
      const [pa, pb, pc] = ['pa', 'pb', 'pc'].map((d) => `${d}${half === 'low' ? 'Low' : 'High'}`);
      return `
        local.get b  ${widen}  local.get c  ${widen}  i16x8.sub  local.set ${pa}  ;; b - c
        local.get a  ${widen}  local.get c  ${widen}  i16x8.sub  local.set ${pb}  ;; a - c
        local.get ${pa}  local.get ${pb}  i16x8.add  i16x8.abs  local.set ${pc}
        local.get ${pa}  i16x8.abs  local.set ${pa}
        local.get ${pb}  i16x8.abs  local.set ${pb}`;
    };
    return `
      i32.const 0  local.set row
      local.get source  local.set s
      local.get target  local.set d
      block loop  ;; each row
        local.get row  local.get rows  i32.lt_u  i32.eqz  br_if 1
        local.get d  i32.const 4  i32.store8
        local.get d  i32.const 1  i32.add  local.set d
        local.get s  local.get stride  i32.sub  local.set p
        i32.const 0  local.set i
        block loop  ;; the first pixel: the predictor is the byte above
          local.get i  local.get bpp  i32.lt_u  i32.eqz  br_if 1
          local.get d  local.get i  i32.add
          local.get s  local.get i  i32.add  i32.load8_u
          local.get p  local.get i  i32.add  i32.load8_u
          i32.sub  i32.store8
          local.get i  i32.const 1  i32.add  local.set i
          br 0
        end end
        block loop  ;; the rest, 16 bytes a step
          local.get i  local.get stride  i32.lt_u  i32.eqz  br_if 1
          local.get s  local.get i  i32.add  local.get bpp  i32.sub  v128.load  local.set a
          local.get p  local.get i  i32.add  v128.load  local.set b
          local.get p  local.get i  i32.add  local.get bpp  i32.sub  v128.load  local.set c
          ${distances('low')}
          ${distances('high')}
          local.get d  local.get i  i32.add
          local.get s  local.get i  i32.add  v128.load
          ;; bitselect(a, bitselect(b, c, pb <= pc), pa <= pb && pa <= pc)
          local.get a
          local.get b  local.get c
          local.get pbLow  local.get pcLow  i16x8.le_s
          local.get pbHigh  local.get pcHigh  i16x8.le_s
          i8x16.narrow_i16x8_s  v128.bitselect
          local.get paLow  local.get pbLow  i16x8.le_s  local.get paLow  local.get pcLow  i16x8.le_s
          v128.and
          local.get paHigh  local.get pbHigh  i16x8.le_s  local.get paHigh  local.get pcHigh  i16x8.le_s
          v128.and
          i8x16.narrow_i16x8_s  v128.bitselect
          i8x16.sub  v128.store
          local.get i  i32.const 16  i32.add  local.set i
          br 0
        end end
        local.get s  local.get stride  i32.add  local.set s
        local.get d  local.get stride  i32.add  local.set d
        local.get row  i32.const 1  i32.add  local.set row
        br 0
      end end`;
  })(),
};

/**
 * adler32(at, length, adler) -> adler. Sixteen bytes a step: with s1 the running byte sum and
 * s2 the sum of the s1s, a step adds sum(bytes) to s1 and 16*s1 + sum((16-k)*byte[k]) to s2.
 * Within a run of up to 347 steps the lanes of three vectors collect the byte sums, the s1
 * values before each step, and the weighted sums without overflowing; the run is then folded
 * in with 64-bit arithmetic modulo 65521. Leftover bytes go one by one.
 */
const adler32: KernelFunction = {
  name: 'adler32',
  params: ['at', 'length', 'adler'],
  result: true,
  locals: { i32: ['s1', 's2', 'steps', 'step'], v128: ['sums', 'prefix', 'weighted', 'bytes'] },
  code: (() => {
    const zero = `v128.const i8x16 ${new Array(16).fill(0).join(' ')}`;
    const sum = (vector: string) => `
      local.get ${vector}  i32x4.extract_lane 0  local.get ${vector}  i32x4.extract_lane 1  i32.add
      local.get ${vector}  i32x4.extract_lane 2  i32.add  local.get ${vector}  i32x4.extract_lane 3
      i32.add  i64.extend_i32_u`;
    return `
      local.get adler  i32.const 0xffff  i32.and  local.set s1
      local.get adler  i32.const 16  i32.shr_u  local.set s2
      block loop
        local.get length  i32.const 16  i32.ge_u  i32.eqz  br_if 1
        ;; steps = min(length / 16, 347)
        i32.const 347  local.get length  i32.const 4  i32.shr_u
        local.get length  i32.const 4  i32.shr_u  i32.const 347  i32.ge_u  select  local.set steps
        ${zero}  local.set sums  ${zero}  local.set prefix  ${zero}  local.set weighted
        i32.const 0  local.set step
        block loop
          local.get step  local.get steps  i32.lt_u  i32.eqz  br_if 1
          local.get at  v128.load  local.set bytes
          local.get prefix  local.get sums  i32x4.add  local.set prefix
          local.get sums
          local.get bytes  i16x8.extadd_pairwise_i8x16_u  i32x4.extadd_pairwise_i16x8_u
          i32x4.add  local.set sums
          local.get weighted
          local.get bytes  i16x8.extend_low_i8x16_u  v128.const i16x8 16 15 14 13 12 11 10 9
          i32x4.dot_i16x8_s  i32x4.add
          local.get bytes  i16x8.extend_high_i8x16_u  v128.const i16x8 8 7 6 5 4 3 2 1
          i32x4.dot_i16x8_s  i32x4.add
          local.set weighted
          local.get at  i32.const 16  i32.add  local.set at
          local.get step  i32.const 1  i32.add  local.set step
          br 0
        end end
        ;; s2 = (s2 + 16 * steps * s1 + 16 * sum(prefix) + sum(weighted)) % 65521
        local.get s2  i64.extend_i32_u
        local.get steps  i32.const 4  i32.shl  i64.extend_i32_u  local.get s1  i64.extend_i32_u
        i64.mul  i64.add
        ${sum('prefix')}  i64.const 16  i64.mul  i64.add
        ${sum('weighted')}  i64.add
        i64.const 65521  i64.rem_u  i32.wrap_i64  local.set s2
        ;; s1 = (s1 + sum(sums)) % 65521
        local.get s1  i64.extend_i32_u  ${sum('sums')}  i64.add
        i64.const 65521  i64.rem_u  i32.wrap_i64  local.set s1
        local.get length  local.get steps  i32.const 4  i32.shl  i32.sub  local.set length
        br 0
      end end
      block loop
        local.get length  i32.eqz  br_if 1
        local.get s1  local.get at  i32.load8_u  i32.add  i32.const 65521  i32.rem_u  local.set s1
        local.get s2  local.get s1  i32.add  i32.const 65521  i32.rem_u  local.set s2
        local.get at  i32.const 1  i32.add  local.set at
        local.get length  i32.const 1  i32.sub  local.set length
        br 0
      end end
      local.get s2  i32.const 16  i32.shl  local.get s1  i32.or`;
  })(),
};

/**
 * interleave(rgb, alpha, target, count). Sixteen pixels a step: three vectors of RGB and one of
 * alpha shuffled into four of RGBA, each cleared where its pixels' alpha is 0. The last step
 * may read and write past the end (into the padding).
 */
const interleave: KernelFunction = {
  name: 'interleave',
  params: ['rgb', 'alpha', 'target', 'count'],
  result: false,
  locals: { i32: ['pixel'], v128: ['r0', 'r1', 'r2', 'a', 'clear'] },
  code: (() => {
    // Shuffle lanes 0-15 pick from the first vector, 16-31 from the second: four pixels' RGB
    // from `first` on in the first, their alpha from lane `alpha` on in the second.
    const withAlpha = (first: number, alpha: number) =>
      [0, 1, 2, 3]
        .flatMap((k) => [first + 3 * k, first + 3 * k + 1, first + 3 * k + 2, alpha + k])
        .join(' ');
    const cleared = (quarter: number) => {
      const spread = [0, 1, 2, 3].flatMap((k) => new Array(4).fill(4 * quarter + k)).join(' ');
      return `local.get clear  local.get clear  i8x16.shuffle ${spread}  v128.andnot`;
    };
    return `
      i32.const 0  local.set pixel
      block loop
        local.get pixel  local.get count  i32.lt_u  i32.eqz  br_if 1
        local.get rgb  v128.load  local.set r0
        local.get rgb  v128.load offset=16  local.set r1
        local.get rgb  v128.load offset=32  local.set r2
        local.get alpha  v128.load  local.set a
        local.get a  v128.const i8x16 ${new Array(16).fill(0).join(' ')}  i8x16.eq  local.set clear
        ;; RGB bytes 0-11 are r0's 0-11; 12-23 r0's 12-15 and r1's 0-7; 24-35 r1's 8-15 and
        ;; r2's 0-3; 36-47 r2's 4-15.
        local.get target
        local.get r0  local.get a  i8x16.shuffle ${withAlpha(0, 16)}
        ${cleared(0)}  v128.store
        local.get target
        local.get r0  local.get r1  i8x16.shuffle ${lanes(12, 12)} 0 0 0 0
        local.get a  i8x16.shuffle ${withAlpha(0, 20)}
        ${cleared(1)}  v128.store offset=16
        local.get target
        local.get r1  local.get r2  i8x16.shuffle ${lanes(8, 12)} 0 0 0 0
        local.get a  i8x16.shuffle ${withAlpha(0, 24)}
        ${cleared(2)}  v128.store offset=32
        local.get target
        local.get r2  local.get a  i8x16.shuffle ${withAlpha(4, 28)}
        ${cleared(3)}  v128.store offset=48
        local.get rgb  i32.const 48  i32.add  local.set rgb
        local.get alpha  i32.const 16  i32.add  local.set alpha
        local.get target  i32.const 64  i32.add  local.set target
        local.get pixel  i32.const 16  i32.add  local.set pixel
        br 0
      end end`;
  })(),
};

/**
 * crc32(at, length, crc) -> crc, with the tables at `crcTablesAt`. Eight bytes a step (slicing
 * by 8: the CRC so far xored into the first four, each byte looked up in the table for its
 * distance from the end); leftover bytes one by one.
 */
const crc32: KernelFunction = {
  name: 'crc32',
  params: ['at', 'length', 'crc'],
  result: true,
  locals: { i32: ['low', 'high'] },
  code: (() => {
    const lookup = (table: number, word: string, shift: number) => `
      local.get ${word}  ${shift ? `i32.const ${shift}  i32.shr_u` : ''}
      ${shift < 24 ? 'i32.const 0xff  i32.and' : ''}
      i32.const 2  i32.shl  i32.load offset=${crcTablesAt + table * 1024}`;
    return `
      local.get crc  i32.const -1  i32.xor  local.set crc
      block loop
        local.get length  i32.const 8  i32.ge_u  i32.eqz  br_if 1
        local.get at  i32.load  local.get crc  i32.xor  local.set low
        local.get at  i32.load offset=4  local.set high
        ${lookup(7, 'low', 0)}  ${lookup(6, 'low', 8)}  i32.xor
        ${lookup(5, 'low', 16)}  i32.xor  ${lookup(4, 'low', 24)}  i32.xor
        ${lookup(3, 'high', 0)}  i32.xor  ${lookup(2, 'high', 8)}  i32.xor
        ${lookup(1, 'high', 16)}  i32.xor  ${lookup(0, 'high', 24)}  i32.xor
        local.set crc
        local.get at  i32.const 8  i32.add  local.set at
        local.get length  i32.const 8  i32.sub  local.set length
        br 0
      end end
      block loop
        local.get length  i32.eqz  br_if 1
        local.get crc  local.get at  i32.load8_u  i32.xor  i32.const 0xff  i32.and
        i32.const 2  i32.shl  i32.load offset=${crcTablesAt}
        local.get crc  i32.const 8  i32.shr_u  i32.xor  local.set crc
        local.get at  i32.const 1  i32.add  local.set at
        local.get length  i32.const 1  i32.sub  local.set length
        br 0
      end end
      local.get crc  i32.const -1  i32.xor`;
  })(),
};

/** Bytes between the four histograms `tokenize` counts into (286 counters each, padded). */
const histogramStride = 288 * 4;

/**
 * tokenize(source, length, tokens, histograms, lengthCodes) -> count. Splits `length` bytes into
 * deflate symbols the way zlib's Z_RLE strategy does: a run of 3 to 258 bytes equal to the byte
 * before it becomes one match at distance 1 (token 256 + run length), any other byte a literal
 * (token = the byte). Tokens are 16-bit. Symbol counts go to the lit/length histograms: literals
 * of a 16-byte step spread over four (so that a repeated byte does not wait on its own last
 * increment), everything else to the first, matches by their length code from `lengthCodes`
 * (one byte per length, 0-28). Runs grow 16 bytes a step while they last.
 */
const tokenize: KernelFunction = {
  name: 'tokenize',
  params: ['source', 'length', 'tokens', 'histograms', 'lengthCodes'],
  result: true,
  locals: { i32: ['i', 't', 'byte', 'run', 'address'], v128: ['bytes', 'repeated'] },
  code: (() => {
    const count = (offset: number) => `
      local.get address  local.get address  i32.load offset=${offset}  i32.const 1  i32.add
      i32.store offset=${offset}`;
    const literals16 = `
      local.get tokens  local.get t  i32.const 1  i32.shl  i32.add  local.set address
      local.get address  local.get bytes  i16x8.extend_low_i8x16_u  v128.store
      local.get address  local.get bytes  i16x8.extend_high_i8x16_u  v128.store offset=16
      ${Array.from(
        { length: 16 },
        (_, k) => `
          local.get source  local.get i  i32.add  i32.load8_u offset=${k}
          i32.const 2  i32.shl  local.get histograms  i32.add  local.set address
          ${count(((k >> 2) & 3) * histogramStride)}`,
      ).join('')}
      local.get i  i32.const 16  i32.add  local.set i
      local.get t  i32.const 16  i32.add  local.set t`;
    const literal = `
      local.get tokens  local.get t  i32.const 1  i32.shl  i32.add  local.get byte  i32.store16
      local.get t  i32.const 1  i32.add  local.set t
      local.get byte  i32.const 2  i32.shl  local.get histograms  i32.add  local.set address
      ${count(0)}
      local.get i  i32.const 1  i32.add  local.set i`;
    const match = `
      i32.const 3  local.set run
      local.get byte  i8x16.splat  local.set repeated
      block loop  ;; 16 at a time while run + 16 <= 258, i + run + 16 <= length and all repeat
        local.get run  i32.const 242  i32.le_u
        local.get i  local.get run  i32.add  i32.const 16  i32.add  local.get length  i32.le_u
        i32.and
        if
          local.get source  local.get i  i32.add  local.get run  i32.add  v128.load
          local.get repeated  i8x16.eq  i8x16.all_true  local.set address
        else
          i32.const 0  local.set address
        end
        local.get address  i32.eqz  br_if 1
        local.get run  i32.const 16  i32.add  local.set run
        br 0
      end end
      block loop  ;; then one at a time while run < 258, i + run < length and the byte repeats
        local.get run  i32.const 258  i32.lt_u
        local.get i  local.get run  i32.add  local.get length  i32.lt_u
        i32.and
        if
          local.get source  local.get i  i32.add  local.get run  i32.add  i32.load8_u
          local.get byte  i32.eq  local.set address
        else
          i32.const 0  local.set address
        end
        local.get address  i32.eqz  br_if 1
        local.get run  i32.const 1  i32.add  local.set run
        br 0
      end end
      local.get tokens  local.get t  i32.const 1  i32.shl  i32.add
      local.get run  i32.const 256  i32.add  i32.store16
      local.get t  i32.const 1  i32.add  local.set t
      local.get lengthCodes  local.get run  i32.add  i32.load8_u  i32.const 257  i32.add
      i32.const 2  i32.shl  local.get histograms  i32.add  local.set address
      ${count(0)}
      local.get i  local.get run  i32.add  local.set i`;
    return `
      i32.const 0  local.set i
      i32.const 0  local.set t
      block loop
        local.get i  local.get length  i32.lt_u  i32.eqz  br_if 1
        ;; Sixteen at once where 0 < i <= length - 18: a run can start at byte j only if bytes
        ;; j-1 to j+2 are equal; where none of the 16 can, they are literals, else those before
        ;; the first that can are, one by one, and the one-symbol step below takes the run.
        local.get i  i32.const 0  i32.ne
        local.get i  local.get length  i32.const 18  i32.sub  i32.le_s
        i32.and
        if
          local.get source  local.get i  i32.add  i32.const 1  i32.sub  local.set address
          local.get address  v128.load offset=1  local.set bytes
          local.get bytes  local.get address  v128.load  i8x16.eq
          local.get address  v128.load offset=2  local.get bytes  i8x16.eq  v128.and
          local.get address  v128.load offset=3  local.get address  v128.load offset=2  i8x16.eq
          v128.and
          i8x16.bitmask  local.set run
          local.get run  i32.eqz
          if
            ${literals16}
            br 2  ;; on to the next step
          end
          block loop
            local.get run  i32.ctz  i32.eqz  br_if 1
            local.get source  local.get i  i32.add  i32.load8_u  local.set byte
            ${literal}
            local.get run  i32.const 1  i32.shr_u  local.set run
            br 0
          end end
        end
        ;; One symbol: a run where 0 < i, i + 2 < length and bytes i-1 to i+2 are equal.
        local.get source  local.get i  i32.add  i32.load8_u  local.set byte
        local.get i  i32.const 0  i32.ne
        local.get i  i32.const 2  i32.add  local.get length  i32.lt_u  i32.and
        local.get source  local.get i  i32.add  i32.const 1  i32.sub  i32.load8_u  local.get byte
        i32.eq  i32.and
        local.get source  local.get i  i32.add  i32.load8_u offset=1  local.get byte  i32.eq  i32.and
        local.get source  local.get i  i32.add  i32.load8_u offset=2  local.get byte  i32.eq  i32.and
        if
          ${match}
        else
          ${literal}
        end
        br 0
      end end
      local.get t`;
  })(),
};

/**
 * emit(tokens, count, codes, out, bits, bitCount, state) -> end of output. Writes the Huffman
 * code of each 16-bit token from `codes` (one 32-bit entry per token value: the code's bits,
 * least significant first as deflate sends them, in the low 24 bits and its length above),
 * through a 64-bit bit buffer that starts with `bitCount` pending bits in `bits` and is
 * written out 32 bits at a time. The bits still pending are left at `state` and `state + 4`.
 */
const emit: KernelFunction = {
  name: 'emit',
  params: ['tokens', 'count', 'codes', 'out', 'bits', 'bitCount', 'state'],
  result: true,
  locals: { i32: ['end', 'entry'], i64: ['buffer'] },
  code: `
    local.get bits  i64.extend_i32_u  local.set buffer
    local.get tokens  local.get count  i32.const 1  i32.shl  i32.add  local.set end
    block loop
      local.get tokens  local.get end  i32.lt_u  i32.eqz  br_if 1
      local.get codes  local.get tokens  i32.load16_u  i32.const 2  i32.shl  i32.add  i32.load
      local.set entry
      local.get buffer
      local.get entry  i32.const 0xffffff  i32.and  i64.extend_i32_u
      local.get bitCount  i64.extend_i32_u  i64.shl  i64.or  local.set buffer
      local.get bitCount  local.get entry  i32.const 24  i32.shr_u  i32.add  local.set bitCount
      ;; Without a branch: store the low 32 bits every time, keep them only when they are all
      ;; filled (entry = 32 or 0).
      local.get out  local.get buffer  i64.store32
      local.get bitCount  i32.const 32  i32.and  local.set entry
      local.get out  local.get entry  i32.const 3  i32.shr_u  i32.add  local.set out
      local.get buffer  local.get entry  i64.extend_i32_u  i64.shr_u  local.set buffer
      local.get bitCount  local.get entry  i32.sub  local.set bitCount
      local.get tokens  i32.const 2  i32.add  local.set tokens
      br 0
    end end
    local.get state  local.get buffer  i32.wrap_i64  i32.store
    local.get state  local.get bitCount  i32.store offset=4
    local.get out`,
};
