import { inflateSync } from 'node:zlib';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { referencePng } from '../bench/reference-png.js';
import { encodePng, encodeRawPng } from '../src/image/encode.js';
import { releaseModels, removeImageBackground } from '../src/index.js';
import { decodeRaw, fixturePath, realConfig } from './helpers.js';

const config = realConfig();
afterAll(releaseModels);

/** The PNG's chunks, each checked against its CRC, and its inflated image data. */
function readPng(png: Buffer): { chunks: { type: string; data: Buffer }[]; filtered: Buffer } {
  expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const chunks: { type: string; data: Buffer }[] = [];
  for (let at = 8; at < png.length; ) {
    const length = png.readUInt32BE(at);
    const type = png.toString('latin1', at + 4, at + 8);
    expect(png.readUInt32BE(at + 8 + length)).toBe(crc32(png.subarray(at + 4, at + 8 + length)));
    chunks.push({ type, data: png.subarray(at + 8, at + 8 + length) });
    at += 12 + length;
  }
  expect(chunks.map((chunk) => chunk.type).at(-1)).toBe('IEND');
  const idat = Buffer.concat(chunks.filter((chunk) => chunk.type === 'IDAT').map((c) => c.data));
  return { chunks, filtered: inflateSync(idat) }; // inflate checks the Adler-32
}

function crc32(bytes: Uint8Array): number {
  let crc = -1;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ -1) >>> 0;
}

/** Decodes with sharp and checks the PNG's structure, CRCs and Adler-32 on the way. */
async function decodeChecked(png: Buffer) {
  readPng(png);
  return decodeRaw(png);
}

function fibonacci(count: number): number[] {
  const out = [1, 1];
  while (out.length < count) out.push(out.at(-1)! + out.at(-2)!);
  return out.slice(0, count);
}

/** Deterministic pseudo-random bytes. */
function noise(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let state = seed;
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    out[i] = state >>> 24;
  }
  return out;
}

describe('cut-out PNG size against a standard PNG of the same pixels', () => {
  // The standard: zlib level 6 with adaptive filtering (libpng's and PIL's defaults), on the
  // very RGBA our PNG holds (colour under alpha 0 already black).
  const photos: { name: string; file: string; size?: [number, number] }[] = [
    { name: 'astronaut', file: 'astronaut.png' },
    { name: 'coffee', file: 'coffee.png' },
    { name: 'chelsea', file: 'chelsea.png' },
    { name: 'rocket', file: 'rocket.jpg' },
    { name: 'chelsea at 1 MP (Lanczos-3)', file: 'chelsea.png', size: [1224, 816] },
  ];

  it.each(photos)('$name: at most 1.1x, same pixels', async ({ file, size }) => {
    let input: Buffer | string = fixturePath(file);
    if (size) {
      input = await sharp(input)
        .resize(size[0], size[1], { fit: 'cover', kernel: 'lanczos3' })
        .png()
        .toBuffer();
    }
    const result = await removeImageBackground(input, { model: 'u2netp' }, { config });
    const ours = await decodeChecked(result.data);
    expect(ours.channels).toBe(4);
    const reference = referencePng(ours.data, ours.width, ours.height, 4);
    const standard = await decodeRaw(reference);
    expect(standard.channels).toBe(4);
    expect(Buffer.compare(standard.data, ours.data)).toBe(0);
    expect(result.data.length).toBeLessThanOrEqual(1.1 * reference.length);
    // And against libvips/libpng at level 6 with adaptive filtering.
    const vips = await sharp(ours.data, {
      raw: { width: ours.width, height: ours.height, channels: 4 },
    })
      .png({ compressionLevel: 6, adaptiveFiltering: true })
      .toBuffer();
    expect(result.data.length).toBeLessThanOrEqual(1.1 * vips.length);
  });
});

describe('opaque results are written without an alpha channel', () => {
  it('over a colour: RGB, the colour in the background corners', async () => {
    // coffee.png's corners are background (the mask is 0 there).
    const result = await removeImageBackground(
      fixturePath('coffee.png'),
      { model: 'u2netp', bg_type: 'color', bg_color_value: '#2060c0' },
      { config },
    );
    expect(readPng(result.data).chunks[0]!.data[9]).toBe(2); // IHDR colour type: RGB
    const out = await decodeChecked(result.data);
    expect(out.channels).toBe(3);
    const { width, height } = out;
    for (const [x, y] of [
      [0, 0],
      [width - 1, 0],
      [0, height - 1],
      [width - 1, height - 1],
    ] as const) {
      const at = (y * width + x) * 3;
      expect([...out.data.subarray(at, at + 3)]).toEqual([0x20, 0x60, 0xc0]);
    }
    // Against the standard PNG of the same RGB too.
    const reference = referencePng(out.data, width, height, 3);
    expect(result.data.length).toBeLessThanOrEqual(1.1 * reference.length);
  });

  it('over a picture: RGB', async () => {
    const result = await removeImageBackground(
      fixturePath('astronaut.png'),
      { model: 'u2netp', bg_type: 'image' },
      { config, background: fixturePath('coffee.png') },
    );
    const out = await decodeChecked(result.data);
    expect(out.channels).toBe(3);
  });

  it('over a picture with transparent areas: RGBA', async () => {
    const background = await sharp({
      create: {
        width: 64,
        height: 64,
        channels: 4,
        background: { r: 0, g: 0, b: 255, alpha: 0.5 },
      },
    })
      .png()
      .toBuffer();
    const result = await removeImageBackground(
      fixturePath('astronaut.png'),
      { model: 'u2netp', bg_type: 'image' },
      { config, background },
    );
    expect((await decodeChecked(result.data)).channels).toBe(4);
  });
});

describe('encodePng', () => {
  it('round-trips 1 to 4 channels at sizes that end mid-vector, with runs and noise', async () => {
    for (const channels of [1, 2, 3, 4]) {
      for (const [width, height] of [
        [1, 1],
        [2, 3],
        [5, 2],
        [15, 4],
        [16, 3],
        [17, 5],
        [33, 9],
        [300, 7],
      ] as const) {
        const pixels = noise(width * height * channels, width * 31 + height + channels);
        // Runs: a flat stretch and a zeroed row, to exercise matches of every length.
        pixels.fill(77, 0, Math.min(pixels.length, 300));
        if (height > 2) pixels.fill(0, width * channels, 2 * width * channels);
        const png = await encodeRawPng(pixels, width, height, channels);
        const { chunks } = readPng(png);
        expect(chunks[0]!.data[9]).toBe({ 1: 0, 2: 4, 3: 2, 4: 6 }[channels]);
        const decoded = await sharp(png).raw().toBuffer({ resolveWithObject: true });
        const expanded = Buffer.alloc(width * height * decoded.info.channels);
        for (let pixel = 0; pixel < width * height; pixel++) {
          const from = pixel * channels;
          const grey = channels <= 2;
          const colour = grey
            ? [pixels[from]!, pixels[from]!, pixels[from]!]
            : [pixels[from]!, pixels[from + 1]!, pixels[from + 2]!];
          const alpha = channels === 2 || channels === 4 ? [pixels[from + channels - 1]!] : [];
          expanded.set(
            [...colour, ...alpha].slice(0, decoded.info.channels),
            pixel * decoded.info.channels,
          );
        }
        expect(Buffer.compare(decoded.data, expanded), `${channels} x ${width}x${height}`).toBe(0);
      }
    }
  });

  it('spans several bands (deflate blocks, IDAT chunks) and writes the same bytes back', async () => {
    const width = 1000;
    const height = 700; // 2.8 MB of RGBA: several bands
    const pixels = noise(width * height * 4, 7);
    // Transparent stretches (long runs of zeros) across band boundaries, and flat colour.
    pixels.fill(0, 0, width * 4 * 150);
    pixels.fill(0, width * 4 * 250, width * 4 * 400);
    pixels.fill(200, width * 4 * 500, width * 4 * 520 + 10);
    const png = await encodeRawPng(pixels, width, height, 4);
    const { chunks, filtered } = readPng(png);
    expect(chunks.filter((chunk) => chunk.type === 'IDAT').length).toBeGreaterThan(2);
    expect(filtered.length).toBe(height * (width * 4 + 1));
    const decoded = await decodeRaw(png);
    expect(Buffer.compare(decoded.data, Buffer.from(pixels))).toBe(0);
  });

  it('limits Huffman codes to 15 bits when the frequencies would make them deeper', async () => {
    // Filtered bytes 0..24 (times 7) with counts 2, 3, 5, 8... which, with the filter type byte
    // and the end of block once each, make Fibonacci frequencies: an optimal code would be 26
    // bits deep. Never twice in a row (so no runs): the most frequent on every other byte first,
    // then the rest. A one-row grey picture whose Paeth filter (nothing above: the left
    // neighbour) gives them back.
    const grouped: number[] = [];
    for (let value = 24, counts = fibonacci(27); value >= 0; value--) {
      for (let k = 0; k < counts[value + 2]!; k++) grouped.push(value * 7);
    }
    const symbols = new Array<number>(grouped.length);
    const half = Math.ceil(grouped.length / 2);
    grouped.forEach((symbol, k) => {
      symbols[k < half ? 2 * k : 2 * (k - half) + 1] = symbol;
    });
    const row = new Uint8Array(symbols.length);
    for (let x = 0, left = 0; x < row.length; x++) left = row[x] = (left + symbols[x]!) & 0xff;
    const png = await encodeRawPng(row, row.length, 1, 1);
    const { filtered } = readPng(png);
    expect(Buffer.compare(filtered, Buffer.from([4, ...symbols]))).toBe(0);
    const decoded = await sharp(png).extractChannel(0).raw().toBuffer();
    expect(Buffer.compare(decoded, Buffer.from(row))).toBe(0);
  });

  it('writes RGB and a separate alpha plane as RGBA, black where alpha is 0', async () => {
    const width = 37;
    const height = 21;
    const rgb = Buffer.from(noise(width * height * 3, 3));
    const alpha = noise(width * height, 5).map((a) => (a < 96 ? 0 : a));
    const png = await encodePng({ rgb: { data: rgb, width, height, channels: 3 }, alpha });
    const decoded = await decodeChecked(png);
    expect(decoded.channels).toBe(4);
    for (let pixel = 0; pixel < width * height; pixel++) {
      const visible = alpha[pixel]! > 0;
      const expected = visible
        ? [...rgb.subarray(pixel * 3, pixel * 3 + 3), alpha[pixel]]
        : [0, 0, 0, 0];
      expect([...decoded.data.subarray(pixel * 4, pixel * 4 + 4)]).toEqual(expected);
    }
  });

  it('keeps concurrent encodings apart (they share the kernel between bands)', async () => {
    const pictures = [0, 1, 2, 3].map((k) => {
      // Big enough (8 MB of noise) that each gives the event loop turns while it encodes.
      const width = 1600 + 37 * k;
      const height = 1200 + 11 * k;
      return { width, height, pixels: noise(width * height * 4, 100 + k) };
    });
    const pngs = await Promise.all(
      pictures.map(({ pixels, width, height }) => encodeRawPng(pixels, width, height, 4)),
    );
    for (const [k, png] of pngs.entries()) {
      const decoded = await decodeChecked(png);
      expect(Buffer.compare(decoded.data, Buffer.from(pictures[k]!.pixels))).toBe(0);
    }
  });
});
