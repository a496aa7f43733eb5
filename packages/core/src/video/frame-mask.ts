import sharp from 'sharp';
import { resizeMask } from '../image/mask.js';
import { normalizeForModel, resizeForModel } from '../image/model-input.js';
import type { ThreadedModel } from '../inference/inference-thread.js';

/**
 * The hook for refining a frame's mask after the model (alpha matting, once it exists): gets
 * the frame's packed RGB, the full-size mask (one byte per pixel) and the size, and returns the
 * refined mask of the same size. It may modify `mask` in place and return it.
 */
export type MaskRefiner = (
  frameRgb: Buffer,
  mask: Buffer,
  width: number,
  height: number,
) => Promise<Buffer>;

/**
 * The model input for one frame: the same resize (320x320, Lanczos, aspect ignored) and
 * per-picture normalisation as still images, so a frame's mask never depends on other frames.
 */
export async function frameModelInput(
  model: ThreadedModel,
  rgb: Buffer,
  width: number,
  height: number,
): Promise<Float32Array> {
  const resized = await resizeForModel(
    sharp(rgb, { raw: { width, height, channels: 3 } }),
    model.inputSize,
  );
  return normalizeForModel(resized, model.normalization);
}

/**
 * Scales a model-size mask to the frame's size (Lanczos) and passes it through `refineMask`
 * when one is given.
 */
export async function fullSizeFrameMask(
  model: ThreadedModel,
  smallMask: Uint8Array,
  rgb: Buffer,
  width: number,
  height: number,
  refineMask: MaskRefiner | undefined,
): Promise<Buffer> {
  const mask = await resizeMask(smallMask, model.inputSize, width, height);
  return refineMask ? refineMask(rgb, mask, width, height) : mask;
}
