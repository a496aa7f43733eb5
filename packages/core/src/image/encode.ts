import { performance } from 'node:perf_hooks';
import type { Sharp } from 'sharp';
import type { RawImage } from './decode.js';
import { PNG_KERNELS_WASM_BASE64 } from './kernels/generated/png-kernels-wasm.js';
import {
  CRC_SCRATCH_AT,
  CRC_SCRATCH_BYTES,
  CRC_TABLE_COUNT,
  CRC_TABLES_AT,
  HISTOGRAM_COUNT,
  HISTOGRAM_STRIDE,
  KERNEL_BASE,
  LENGTH_CODES_AT,
} from './png-layout.js';

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
 * The kernel is written in WAT (`kernels/png-kernels.wat`, its offsets filled from
 * `png-layout.ts`) and compiled by the build (scripts/build-kernels.ts, with wabt).
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
  let at = KERNEL_BASE;
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
    histograms: next(HISTOGRAM_COUNT * HISTOGRAM_STRIDE),
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
  heap.fill(0, layout.histograms, layout.histograms + HISTOGRAM_COUNT * HISTOGRAM_STRIDE);
  const count = kernel.tokenize(
    layout.filtered,
    length,
    layout.tokens,
    layout.histograms,
    LENGTH_CODES_AT,
  );
  const words = new Uint32Array(heap.buffer);
  new Uint16Array(heap.buffer)[(layout.tokens >> 1) + count] = endOfBlock;
  const frequencies = new Uint32Array(286);
  for (let histogram = 0; histogram < HISTOGRAM_COUNT; histogram++) {
    const base = (layout.histograms + histogram * HISTOGRAM_STRIDE) >> 2;
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
  const tables = new Int32Array(CRC_TABLE_COUNT * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    tables[n] = c;
  }
  for (let t = 1; t < CRC_TABLE_COUNT; t++) {
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
  /** Splits bytes into deflate tokens and counts their symbols: see `tokenize` in the WAT. */
  tokenize(
    source: number,
    length: number,
    tokens: number,
    histograms: number,
    lengthCodes: number,
  ): number;
  /** Writes tokens' Huffman codes as bits: see `emit` in the WAT. */
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
    const binary = new Uint8Array(Buffer.from(PNG_KERNELS_WASM_BASE64, 'base64'));
    const instance = new wasm.Instance(new wasm.Module(binary), { env: { memory } });
    const exports = instance.exports as unknown as Omit<Kernel, 'heap' | 'crc32'> & {
      crc32(at: number, length: number, crc: number): number;
    };
    memory.grow(Math.ceil(KERNEL_BASE / 65536));
    new Int32Array(memory.buffer, CRC_TABLES_AT, CRC_TABLE_COUNT * 256).set(crcTables());
    new Uint8Array(memory.buffer, LENGTH_CODES_AT, 259).set(lengthCode);
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
          for (let from = 0; from < bytes.length; from += CRC_SCRATCH_BYTES) {
            const piece = bytes.subarray(from, from + CRC_SCRATCH_BYTES);
            heap.set(piece, CRC_SCRATCH_AT);
            crc = exports.crc32(CRC_SCRATCH_AT, piece.length, crc);
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
