import sharp, { type Sharp } from 'sharp';
import type { Rgba } from '../params/color.js';
import { type RawImage, rawImageToSharp } from './decode.js';

/**
 * The cut-out as a lazy libvips pipeline: RGBA whose colour is the source's own, straight
 * (never multiplied by alpha, so soft edges keep the subject's colour), and whose alpha is the
 * mask (times the source's alpha when it has one). `mask` is one byte per pixel. Colour under
 * alpha 0 is invisible and is set to black, so those runs compress to almost nothing in the PNG.
 * `source.data` is modified in place.
 */
export function cutOut(source: RawImage, mask: Uint8Array): Sharp {
  const { width, height } = source;
  if (mask.length !== width * height) throw new Error('cutOut: mask and picture sizes differ');
  if (source.channels === 3) {
    clearHiddenColour(source.data, mask);
    return rawImageToSharp(source).joinChannel(
      Buffer.from(mask.buffer, mask.byteOffset, mask.length),
      {
        raw: { width, height, channels: 1 },
      },
    );
  }
  if (source.channels !== 4)
    throw new Error(`cutOut: expected RGB or RGBA, got ${source.channels} channels`);
  const data = source.data;
  for (let pixel = 0, offset = 0; pixel < mask.length; pixel++, offset += 4) {
    const alpha = Math.round((mask[pixel]! * data[offset + 3]!) / 255);
    data[offset + 3] = alpha;
    if (alpha === 0) data.fill(0, offset, offset + 3);
  }
  return rawImageToSharp(source);
}

/** Blacks out the RGB colour of every pixel whose mask value is 0. */
function clearHiddenColour(rgb: Buffer, mask: Uint8Array): void {
  for (let pixel = 0; pixel < mask.length; pixel++) {
    if (mask[pixel] === 0) {
      const offset = pixel * 3;
      rgb[offset] = 0;
      rgb[offset + 1] = 0;
      rgb[offset + 2] = 0;
    }
  }
}

/**
 * Composes a cut-out over a solid colour with the "over" operator on straight alpha. An opaque
 * colour gives RGB; a translucent one (#rrggbbaa) gives RGBA.
 */
export async function composeOverColor(
  cutout: Sharp,
  width: number,
  height: number,
  color: Rgba,
): Promise<Sharp> {
  if (color.a === 255) {
    // sharp runs flatten before joinChannel whatever the call order, so flatten the pixels.
    const layer = await cutout.raw().toBuffer();
    return sharp(layer, { raw: { width, height, channels: 4 } }).flatten({
      background: { r: color.r, g: color.g, b: color.b },
    });
  }
  const canvas = sharp({
    create: {
      width,
      height,
      channels: 4,
      background: { r: color.r, g: color.g, b: color.b, alpha: color.a / 255 },
    },
  });
  return composeOver(cutout, width, height, canvas);
}

/**
 * Composes a cut-out over a background pipeline of the same size (already cover-fitted), with
 * the "over" operator on straight alpha. The result is opaque wherever the background is.
 */
export async function composeOver(
  cutout: Sharp,
  width: number,
  height: number,
  background: Sharp,
): Promise<Sharp> {
  const layer = await cutout.raw().toBuffer();
  const flattenedBackground = await background.ensureAlpha().raw().toBuffer();
  return sharp(flattenedBackground, { raw: { width, height, channels: 4 } }).composite([
    { input: layer, raw: { width, height, channels: 4 }, blend: 'over' },
  ]);
}
