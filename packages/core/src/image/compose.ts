import type { Rgba } from '../params/color.js';
import type { RawImage } from './decode.js';

/**
 * Turns an RGBA picture into its cut-out in place: alpha becomes mask x original alpha, colour
 * stays straight (never multiplied by alpha), so soft edges keep the subject's own colour.
 */
export function applyMaskAsAlpha(rgba: RawImage, mask: Uint8Array): RawImage {
  const { data } = rgba;
  for (let pixel = 0, offset = 3; pixel < mask.length; pixel++, offset += 4) {
    const sourceAlpha = data[offset]!;
    const maskValue = mask[pixel]!;
    data[offset] = sourceAlpha === 255 ? maskValue : Math.round((maskValue * sourceAlpha) / 255);
  }
  return rgba;
}

/**
 * Composes a straight-alpha cut-out over a solid colour ("over" operator). An opaque colour gives
 * an RGB picture; a translucent one (#rrggbbaa) an RGBA picture.
 */
export function composeOverColor(cutout: RawImage, color: Rgba): RawImage {
  const pixels = cutout.width * cutout.height;
  const opaque = color.a === 255;
  const channels = opaque ? 3 : 4;
  const out = Buffer.allocUnsafe(pixels * channels);
  const source = cutout.data;
  const backgroundAlpha = color.a / 255;
  for (let pixel = 0; pixel < pixels; pixel++) {
    const s = pixel * 4;
    const d = pixel * channels;
    const alpha = source[s + 3]! / 255;
    if (opaque) {
      const rest = 1 - alpha;
      out[d] = Math.round(source[s]! * alpha + color.r * rest);
      out[d + 1] = Math.round(source[s + 1]! * alpha + color.g * rest);
      out[d + 2] = Math.round(source[s + 2]! * alpha + color.b * rest);
    } else {
      const behind = backgroundAlpha * (1 - alpha);
      const total = alpha + behind;
      const inv = total > 0 ? 1 / total : 0;
      out[d] = Math.round((source[s]! * alpha + color.r * behind) * inv);
      out[d + 1] = Math.round((source[s + 1]! * alpha + color.g * behind) * inv);
      out[d + 2] = Math.round((source[s + 2]! * alpha + color.b * behind) * inv);
      out[d + 3] = Math.round(total * 255);
    }
  }
  return { data: out, width: cutout.width, height: cutout.height, channels };
}

/**
 * Composes a straight-alpha cut-out over a background picture of the same size (RGBA, already
 * cover-fitted). Returns RGBA; the result is opaque wherever the background is.
 */
export function composeOverImage(cutout: RawImage, background: RawImage): RawImage {
  if (background.width !== cutout.width || background.height !== cutout.height) {
    throw new Error('composeOverImage: background must be fitted to the cut-out size first');
  }
  const pixels = cutout.width * cutout.height;
  const out = Buffer.allocUnsafe(pixels * 4);
  const source = cutout.data;
  const back = background.data;
  for (let pixel = 0; pixel < pixels; pixel++) {
    const o = pixel * 4;
    const alpha = source[o + 3]! / 255;
    const behind = (back[o + 3]! / 255) * (1 - alpha);
    const total = alpha + behind;
    const inv = total > 0 ? 1 / total : 0;
    out[o] = Math.round((source[o]! * alpha + back[o]! * behind) * inv);
    out[o + 1] = Math.round((source[o + 1]! * alpha + back[o + 1]! * behind) * inv);
    out[o + 2] = Math.round((source[o + 2]! * alpha + back[o + 2]! * behind) * inv);
    out[o + 3] = Math.round(total * 255);
  }
  return { data: out, width: cutout.width, height: cutout.height, channels: 4 };
}
