/**
 * A standard PNG encoder to measure ours against, independent of libvips: 8-bit RGB or RGBA,
 * non-interlaced, each row filtered with whichever of the five PNG filters gives the smallest
 * sum of absolute (signed) byte values (the adaptive heuristic of libpng and PIL), the whole
 * stream deflated by Node's zlib at level 6 (zlib's default) with the default strategy.
 */

import { deflateSync } from 'node:zlib';

const crcTable = new Int32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c;
});

function crc32(bytes: Uint8Array): number {
  let c = -1;
  for (const byte of bytes) c = crcTable[(c ^ byte) & 0xff]! ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

function chunk(type: string, body: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + body.length);
  out.writeUInt32BE(body.length, 0);
  out.write(type, 4, 'latin1');
  out.set(body, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + body.length)), 8 + body.length);
  return out;
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** Filters every row adaptively; returns the filtered stream that IDAT deflates. */
function filterRows(pixels: Uint8Array, width: number, height: number, bpp: number): Buffer {
  const stride = width * bpp;
  const out = Buffer.alloc(height * (stride + 1));
  const candidate = new Uint8Array(stride);
  const best = new Uint8Array(stride);
  const zero = new Uint8Array(stride);
  for (let y = 0; y < height; y++) {
    const row = pixels.subarray(y * stride, (y + 1) * stride);
    const above = y > 0 ? pixels.subarray((y - 1) * stride, y * stride) : zero;
    let bestType = 0;
    let bestSum = Number.POSITIVE_INFINITY;
    for (let type = 0; type < 5; type++) {
      let sum = 0;
      for (let i = 0; i < stride; i++) {
        const left = i >= bpp ? row[i - bpp]! : 0;
        const up = above[i]!;
        const upLeft = i >= bpp ? above[i - bpp]! : 0;
        let predicted = 0;
        if (type === 1) predicted = left;
        else if (type === 2) predicted = up;
        else if (type === 3) predicted = (left + up) >> 1;
        else if (type === 4) predicted = paeth(left, up, upLeft);
        const value = (row[i]! - predicted) & 0xff;
        candidate[i] = value;
        sum += value < 128 ? value : 256 - value;
      }
      if (sum < bestSum) {
        bestSum = sum;
        bestType = type;
        best.set(candidate);
      }
    }
    const offset = y * (stride + 1);
    out[offset] = bestType;
    out.set(best, offset + 1);
  }
  return out;
}

/** Encodes interleaved 8-bit RGB (3 channels) or RGBA (4 channels) pixels as a standard PNG. */
export function referencePng(
  pixels: Uint8Array,
  width: number,
  height: number,
  channels: 3 | 4,
  level = 6,
): Buffer {
  if (pixels.length !== width * height * channels) {
    throw new Error('referencePng: buffer size does not match width x height x channels');
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = channels === 4 ? 6 : 2; // colour type: RGBA or RGB
  const idat = deflateSync(filterRows(pixels, width, height, channels), { level });
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', idat),
    chunk('IEND', new Uint8Array(0)),
  ]);
}
