/*
 * Runs the model on several normalised inputs per session.run: the GPU path, where one run of N
 * frames costs far less than N runs. Free of sharp, like predict-mask.ts, so the inference
 * thread can import it.
 */
import type { LoadedModel } from '../models/sessions.js';
import { clampToBytes, runMaskModel, stretchToBytes } from './predict-mask.js';

/** Frames per session.run when the caller sets no limit. */
export const DEFAULT_MAX_BATCH = 16;

/** How `predictMasksBatch` and `predictRawBatch` split their inputs into runs. */
export interface BatchOptions {
  /** Most frames per session.run (default 16); larger inputs are run in chunks. */
  maxBatch?: number;
}

/**
 * Runs the model on N normalised 3xSxS inputs (from `normalizeForModel`) and returns each
 * frame's first output (U²-Net's d1) as raw floats, in input order. With a symbolic-batch model
 * (`loadModel(..., { symbolicBatch: true })`, the default on cuda) the frames are stacked into
 * Nx3xSxS runs of at most `maxBatch`; a model with a fixed batch of 1 runs them one by one, so
 * callers need not care which they got.
 */
export async function predictRawBatch(
  model: LoadedModel,
  tensors: readonly Float32Array[],
  options: BatchOptions = {},
): Promise<Float32Array[]> {
  const maxBatch = model.symbolicBatch ? (options.maxBatch ?? DEFAULT_MAX_BATCH) : 1;
  if (!Number.isInteger(maxBatch) || maxBatch < 1) {
    throw new Error(`maxBatch must be a positive integer, got ${maxBatch}`);
  }
  const results: Float32Array[] = [];
  for (let start = 0; start < tensors.length; start += maxBatch) {
    results.push(...(await runStacked(model, tensors.slice(start, start + maxBatch))));
  }
  return results;
}

/**
 * Like `predictMask` for N frames: each frame's output becomes a 0..255 mask at the model's
 * input size, normalised per frame (min-max or clamp, as the model's spec says), so a frame's
 * mask never depends on the others in its batch.
 */
export async function predictMasksBatch(
  model: LoadedModel,
  tensors: readonly Float32Array[],
  options: BatchOptions = {},
): Promise<Uint8Array[]> {
  const outputs = await predictRawBatch(model, tensors, options);
  const toBytes = model.spec.output.kind === 'clamp' ? clampToBytes : stretchToBytes;
  return outputs.map(toBytes);
}

/** One session.run over the stacked frames; the output is split back into one array a frame. */
async function runStacked(
  model: LoadedModel,
  tensors: readonly Float32Array[],
): Promise<Float32Array[]> {
  const size = model.spec.inputSize;
  const frameInput = 3 * size * size;
  const frameOutput = size * size;
  const count = tensors.length;
  if (tensors.some((tensor) => tensor.length !== frameInput)) {
    throw new Error(`Each input must hold ${frameInput} values (3x${size}x${size})`);
  }
  let data: Float32Array;
  if (count === 1) {
    data = tensors[0]!;
  } else {
    data = new Float32Array(count * frameInput);
    tensors.forEach((tensor, index) => {
      data.set(tensor, index * frameInput);
    });
  }
  const { prediction, values } = await runMaskModel(model, data, count, true);
  const frames: Float32Array[] = [];
  for (let index = 0; index < count; index++) {
    frames.push(values.slice(index * frameOutput, (index + 1) * frameOutput));
  }
  prediction.dispose();
  return frames;
}
