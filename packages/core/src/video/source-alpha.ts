/**
 * Sources that carry their own alpha (VP9 with alpha, ProRes 4444, transparent GIFs): the
 * decoder hands over RGBA, the pipeline works on RGB, and the source's alpha is applied over the
 * mask, the way still images do it (alpha = mask x source alpha / 255).
 */

/** Splits packed RGBA into packed RGB and one alpha byte per pixel (new buffers). */
export function splitAlpha(rgba: Uint8Array): { rgb: Buffer; alpha: Buffer } {
  const pixels = rgba.length >> 2;
  const rgb = Buffer.allocUnsafe(pixels * 3);
  const alpha = Buffer.allocUnsafe(pixels);
  for (let pixel = 0, source = 0, target = 0; pixel < pixels; pixel++, source += 4, target += 3) {
    rgb[target] = rgba[source]!;
    rgb[target + 1] = rgba[source + 1]!;
    rgb[target + 2] = rgba[source + 2]!;
    alpha[pixel] = rgba[source + 3]!;
  }
  return { rgb, alpha };
}

/**
 * Multiplies a mask by the source's alpha, in place, and returns it: what was transparent in
 * the source stays transparent whatever the model says.
 */
export function applySourceAlpha(mask: Uint8Array, alpha: Uint8Array): Uint8Array {
  for (let pixel = 0; pixel < mask.length; pixel++) {
    const source = alpha[pixel]!;
    if (source !== 255) mask[pixel] = Math.round((mask[pixel]! * source) / 255);
  }
  return mask;
}
