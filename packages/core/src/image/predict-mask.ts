/*
 * The model run and its output as bytes. Kept free of sharp: the inference thread imports this,
 * and loading sharp in a thread resets libvips' thread count for the whole process to sharp's
 * default (one on glibc), which made every later resize on the main thread single-threaded.
 */
import * as ort from 'onnxruntime-node';
import type { LoadedModel } from '../models/sessions.js';

/**
 * Runs the model on one normalised input and returns its first output (U²-Net's d1, ISNet's
 * mask) as a 0..255 mask at the model's input size: stretched min-to-max per image for
 * `min-max` models, clamped to 0..1 for `clamp` models.
 */
export async function predictMask(
  model: LoadedModel,
  tensorData: Float32Array,
): Promise<Uint8Array> {
  const { prediction, values } = await runMaskModel(model, tensorData, 1);
  const mask = model.spec.output.kind === 'clamp' ? clampToBytes(values) : stretchToBytes(values);
  prediction.dispose();
  return mask;
}

/**
 * One session.run over `count` normalised 3xSxS inputs laid end to end (an Nx3xSxS tensor):
 * returns the first output and its values, checked to hold `count` SxS masks (a length error
 * names the frame count when `batch`). The caller disposes `prediction` once done with `values`.
 */
export async function runMaskModel(
  model: LoadedModel,
  data: Float32Array,
  count: number,
  batch = false,
): Promise<{ prediction: ort.Tensor; values: Float32Array }> {
  const size = model.spec.inputSize;
  const input = new ort.Tensor('float32', data, [count, 3, size, size]);
  const outputs = await model.session.run({ [model.inputName]: input }, [model.outputName]);
  const prediction = outputs[model.outputName];
  if (!prediction) throw new Error(`Model ${model.spec.name} returned no ${model.outputName}`);
  const values = prediction.data as Float32Array;
  const expected = count * size * size;
  if (values.length !== expected) {
    const frames = batch ? ` for ${count} frames` : '';
    throw new Error(
      `Model ${model.spec.name} returned ${values.length} values${frames}, expected ${expected}`,
    );
  }
  return { prediction, values };
}

/** Maps probabilities in 0..1 to bytes, clamping anything outside. */
export function clampToBytes(values: Float32Array): Uint8Array {
  const bytes = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const value = values[i]! * 255;
    bytes[i] = value <= 0 ? 0 : value >= 255 ? 255 : Math.round(value);
  }
  return bytes;
}

/** Maps values linearly so the smallest becomes 0 and the largest 255 (all zero if flat). */
export function stretchToBytes(values: Float32Array): Uint8Array {
  let low = Number.POSITIVE_INFINITY;
  let high = Number.NEGATIVE_INFINITY;
  for (const value of values) {
    if (value < low) low = value;
    if (value > high) high = value;
  }
  const bytes = new Uint8Array(values.length);
  const range = high - low;
  if (!(range > 0)) return bytes;
  const scale = 255 / range;
  for (let i = 0; i < values.length; i++) bytes[i] = Math.round((values[i]! - low) * scale);
  return bytes;
}
