import { endianness } from 'node:os';
import sharp, { type Sharp } from 'sharp';
import type { Rgba } from '../params/color.js';
import { type RawImage, rawImageToSharp } from './decode.js';
import type { RgbAndAlpha } from './encode.js';

const littleEndian = endianness() === 'LE';

/**
 * A cut-out: colour that is the source's own, straight (never multiplied by alpha, so soft
 * edges keep the subject's colour), and alpha that is the mask (times the source's alpha when
 * it has one). Colour under alpha 0 is invisible and counts as black, so those areas compress
 * to almost nothing in the PNG. An RGB source stays as it is, with the mask beside it, for
 * `encodePng` to interleave as it writes; an RGBA one is RGBA.
 */
export type CutOut = RawImage | RgbAndAlpha;

/**
 * Cuts `source` out with `mask` (one byte per pixel). An RGBA `source.data` is modified in
 * place and returned; an RGB one is left as it is.
 */
export function cutOut(source: RawImage, mask: Uint8Array): CutOut {
  const { width, height } = source;
  if (mask.length !== width * height) throw new Error('cutOut: mask and picture sizes differ');
  if (source.channels === 3) return { rgb: source, alpha: mask };
  if (source.channels !== 4)
    throw new Error(`cutOut: expected RGB or RGBA, got ${source.channels} channels`);
  const data = source.data;
  for (let pixel = 0, offset = 0; pixel < mask.length; pixel++, offset += 4) {
    const alpha = Math.round((mask[pixel]! * data[offset + 3]!) / 255);
    data[offset + 3] = alpha;
    if (alpha === 0) data.fill(0, offset, offset + 3);
  }
  return source;
}

/** The cut-out as packed RGBA. */
export function cutOutRgba(cutout: CutOut): RawImage {
  if (!('alpha' in cutout)) return cutout;
  const { rgb, alpha } = cutout;
  const data = Buffer.allocUnsafeSlow(alpha.length * 4);
  // Whole pixels at a time (one 32-bit store each), in memory order R, G, B, alpha.
  const words = new Int32Array(data.buffer, data.byteOffset, alpha.length);
  const colour = rgb.data;
  for (let pixel = 0, from = 0; pixel < alpha.length; pixel++, from += 3) {
    const a = alpha[pixel]!;
    words[pixel] =
      a === 0
        ? 0
        : littleEndian
          ? colour[from]! | (colour[from + 1]! << 8) | (colour[from + 2]! << 16) | (a << 24)
          : (colour[from]! << 24) | (colour[from + 1]! << 16) | (colour[from + 2]! << 8) | a;
  }
  return { data, width: rgb.width, height: rgb.height, channels: 4 };
}

/**
 * Composes a cut-out over a solid colour with the "over" operator on straight alpha. An opaque
 * colour gives an opaque picture, returned as RGB; a translucent one (#rrggbbaa) gives RGBA.
 */
export async function composeOverColor(cutout: CutOut, color: Rgba): Promise<Sharp> {
  const layer = cutOutRgba(cutout);
  if (color.a === 255) {
    // flatten drops the alpha channel.
    return rawImageToSharp(layer).flatten({
      background: { r: color.r, g: color.g, b: color.b },
    });
  }
  const canvas = sharp({
    create: {
      width: layer.width,
      height: layer.height,
      channels: 4,
      background: { r: color.r, g: color.g, b: color.b, alpha: color.a / 255 },
    },
  });
  return composeOver(layer, canvas);
}

/**
 * Composes a cut-out over a background pipeline of the same size (already cover-fitted), with
 * the "over" operator on straight alpha. The result is opaque wherever the background is; when
 * that is everywhere (a photo, say) it is returned as RGB, since an alpha channel of 255s would
 * only make the file bigger.
 */
export async function composeOver(cutout: CutOut, background: Sharp): Promise<Sharp> {
  const layer = cutOutRgba(cutout);
  const { width, height } = layer;
  const base = await background.ensureAlpha().raw().toBuffer();
  const composed = sharp(base, { raw: { width, height, channels: 4 } }).composite([
    { input: layer.data, raw: { width, height, channels: 4 }, blend: 'over' },
  ]);
  return isOpaque(base) ? composed.removeAlpha() : composed;
}

/** Whether every alpha byte of packed RGBA is 255. */
function isOpaque(rgba: Buffer): boolean {
  for (let alpha = 3; alpha < rgba.length; alpha += 4) if (rgba[alpha] !== 255) return false;
  return true;
}
