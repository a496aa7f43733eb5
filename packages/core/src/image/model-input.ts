import type { Sharp } from 'sharp';
import type { InputNormalization } from '../models/registry.js';

/**
 * Resizes a picture to the model's square input, ignoring aspect ratio, with Lanczos
 * resampling; returns packed RGB bytes. Images and video frames both come through here, so
 * both get the same preprocessing.
 */
export async function resizeForModel(source: Sharp, size: number): Promise<Buffer> {
  return source
    .removeAlpha()
    .resize(size, size, { fit: 'fill', kernel: 'lanczos3', fastShrinkOnLoad: false })
    .raw()
    .toBuffer();
}

/**
 * Builds the NCHW float32 tensor data for a resized RGB picture: divide by the picture's own
 * largest value (`max-scaled`, U²-Net; not 255, and an all-black picture stays zero) or by 255
 * (`unit-scaled`, ISNet), then (x - mean) / std per channel. Each picture is normalised on its
 * own, so a video frame never depends on its neighbours.
 */
export function normalizeForModel(
  rgb: Uint8Array,
  normalization: InputNormalization,
): Float32Array {
  const pixels = rgb.length / 3;
  let maxValue = 255;
  if (normalization.kind === 'max-scaled') {
    maxValue = 0;
    for (let i = 0; i < rgb.length; i++) {
      const value = rgb[i]!;
      if (value > maxValue) maxValue = value;
    }
  }
  const scale = maxValue > 0 ? 1 / maxValue : 0;
  const tensor = new Float32Array(rgb.length);
  for (let channel = 0; channel < 3; channel++) {
    const mean = normalization.mean[channel]!;
    const inverseStd = 1 / normalization.std[channel]!;
    const plane = channel * pixels;
    for (let i = 0; i < pixels; i++) {
      tensor[plane + i] = (rgb[i * 3 + channel]! * scale - mean) * inverseStd;
    }
  }
  return tensor;
}
