import { readFile } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeForModel, resizeForModel } from '../src/image/model-input.js';
import { predictMask } from '../src/image/predict-mask.js';
import { predictMasksBatch, predictRawBatch } from '../src/image/predict-masks-batch.js';
import type { Logger } from '../src/logger.js';
import { BatchPinnedError, findBatchPins, makeBatchSymbolic } from '../src/models/onnx-batch.js';
import {
  concatBytes,
  encodeBytesField,
  encodeVarintField,
  fieldBytes,
  readFields,
} from '../src/models/protobuf-wire.js';
import { getModelSpec } from '../src/models/registry.js';
import { type LoadedModel, loadModel, releaseModels } from '../src/models/sessions.js';
import { fixturePath, realConfig } from './helpers.js';

const config = realConfig();
const quiet: Logger = { info: () => {}, warn: () => {} };
const photos = ['astronaut.png', 'chelsea.png', 'coffee.png', 'rocket.jpg'];

let original: LoadedModel;
let edited: LoadedModel;
let tensors: Float32Array[];

beforeAll(async () => {
  original = await loadModel('u2netp', config, quiet, { symbolicBatch: false });
  edited = await loadModel('u2netp', config, quiet, { symbolicBatch: true });
  const spec = getModelSpec('u2netp');
  tensors = await Promise.all(
    photos.map(async (name) => {
      const rgb = await resizeForModel(sharp(await readFile(fixturePath(name))), spec.inputSize);
      return normalizeForModel(rgb, spec.input);
    }),
  );
});

afterAll(releaseModels);

function maxAbsDifference(a: readonly Float32Array[], b: readonly Float32Array[]): number {
  expect(a.map((frame) => frame.length)).toEqual(b.map((frame) => frame.length));
  let worst = 0;
  a.forEach((frame, index) => {
    const other = b[index]!;
    for (let i = 0; i < frame.length; i++) {
      worst = Math.max(worst, Math.abs(frame[i]! - other[i]!));
    }
  });
  return worst;
}

async function oneByOne(model: LoadedModel): Promise<Float32Array[]> {
  const frames: Float32Array[] = [];
  for (const tensor of tensors) frames.push(...(await predictRawBatch(model, [tensor])));
  return frames;
}

describe('symbolic batch (u2netp on the CPU)', () => {
  it('edits only the signature: input.1 and the two fixed outputs', async () => {
    const bytes = await readFile(`${config.modelsDir}/u2netp.onnx`);
    const edit = makeBatchSymbolic(bytes);
    expect(edit.inputs).toEqual(['input.1']);
    expect(edit.outputs).toEqual(['1959', '1960']);
    expect(edit.droppedValueInfo).toBe(0);
    // "batch" replaces a one-byte dim_value in three dimensions: 5 bytes more each.
    expect(edit.bytes.length).toBe(bytes.length + 15);
    // Editing again changes nothing.
    const again = makeBatchSymbolic(edit.bytes);
    expect([again.inputs, again.outputs]).toEqual([[], []]);
    expect(Buffer.compare(again.bytes, edit.bytes)).toBe(0);
    expect(edited.symbolicBatch).toBe(true);
    expect(original.symbolicBatch).toBe(false);
    expect(edited.session.inputMetadata[0]).toMatchObject({ shape: ['batch', 3, 320, 320] });
  });

  it('gives a batch of 4 the same outputs as 4 single runs, and the original model', async () => {
    const batched = await predictRawBatch(edited, tensors, { maxBatch: 4 });
    const singlesEdited = await oneByOne(edited);
    const singlesOriginal = await oneByOne(original);
    const batchVsSingles = maxAbsDifference(batched, singlesEdited);
    const editedVsOriginal = maxAbsDifference(singlesEdited, singlesOriginal);
    const batchVsOriginal = maxAbsDifference(batched, singlesOriginal);
    console.log(
      `u2netp, 4 photos: max |batch of 4 - single runs| = ${batchVsSingles.toExponential(2)}; ` +
        `max |edited single - original single| = ${editedVsOriginal.toExponential(2)}; ` +
        `max |batch of 4 - original single| = ${batchVsOriginal.toExponential(2)}`,
    );
    expect(batchVsSingles).toBeLessThan(1e-4);
    expect(batchVsOriginal).toBeLessThan(1e-4);
    expect(editedVsOriginal).toBe(0);
    // Different photos give different masks (the frames were not mixed up or repeated).
    expect(maxAbsDifference([batched[0]!], [batched[1]!])).toBeGreaterThan(0.5);
  });

  it('gives the same byte masks as predictMask, batch by batch of 3 (chunks of 3 and 1)', async () => {
    const masks = await predictMasksBatch(edited, tensors, { maxBatch: 3 });
    let worst = 0;
    for (const [index, tensor] of tensors.entries()) {
      const single = await predictMask(original, tensor);
      const mask = masks[index]!;
      for (let i = 0; i < single.length; i++) {
        worst = Math.max(worst, Math.abs(single[i]! - mask[i]!));
      }
    }
    console.log(`u2netp, 4 photos: max |batched mask - predictMask| = ${worst} (0..255)`);
    expect(worst).toBeLessThanOrEqual(1);
  });

  it('runs a fixed-batch model one frame at a time instead of failing', async () => {
    const frames = await predictRawBatch(original, tensors.slice(0, 2), { maxBatch: 16 });
    expect(frames).toHaveLength(2);
    await expect(predictRawBatch(edited, [new Float32Array(10)])).rejects.toThrow(/3x320x320/);
  });

  it('is on by default when EXECUTION_PROVIDERS lists cuda (here it falls back to the CPU)', async () => {
    const model = await loadModel(
      'u2netp',
      { ...config, executionProviders: ['cuda', 'cpu'] },
      quiet,
    );
    expect(model.executionProvider).toBe('cpu');
    expect(model.symbolicBatch).toBe(true);
    expect(original.symbolicBatch).toBe(false);
  });

  it('refuses a graph whose Reshape fixes the batch at 1', () => {
    const text = new TextEncoder();
    const shape = concatBytes([
      encodeVarintField(1, 2), // dims: [2]
      encodeVarintField(2, 7), // data_type: INT64
      encodeBytesField(8, text.encode('shape')),
      encodeBytesField(9, new Uint8Array(new BigInt64Array([1n, -1n]).buffer)),
    ]);
    const reshape = concatBytes([
      encodeBytesField(1, text.encode('x')),
      encodeBytesField(1, text.encode('shape')),
      encodeBytesField(2, text.encode('y')),
      encodeBytesField(4, text.encode('Reshape')),
    ]);
    const graph = concatBytes([encodeBytesField(1, reshape), encodeBytesField(5, shape)]);
    expect(findBatchPins(graph)).toEqual(['Reshape with constant shape']);
    expect(() => makeBatchSymbolic(encodeBytesField(7, graph))).toThrow(BatchPinnedError);
  });
});

describe('symbolic batch on a hand-built model', () => {
  const text = new TextEncoder();
  const name = (number: number, value: string) => encodeBytesField(number, text.encode(value));
  /** A float ValueInfoProto; a string dimension is symbolic, `denote` adds a denotation to dim 0. */
  function valueInfo(tensor: string, dims: (number | string)[], denote?: string): Uint8Array {
    const shape = concatBytes(
      dims.map((dim, index) =>
        encodeBytesField(
          1,
          concatBytes([
            typeof dim === 'number' ? encodeVarintField(1, dim) : name(2, dim),
            index === 0 && denote ? name(3, denote) : new Uint8Array(0),
          ]),
        ),
      ),
    );
    const tensorType = concatBytes([encodeVarintField(1, 1), encodeBytesField(2, shape)]);
    return concatBytes([name(1, tensor), encodeBytesField(2, encodeBytesField(1, tensorType))]);
  }
  const relu = (from: string, to: string) =>
    encodeBytesField(1, concatBytes([name(1, from), name(2, to), name(4, 'Relu')]));
  // A weight of shape [1], listed among the inputs as old exports do.
  const weight = concatBytes([
    encodeVarintField(1, 1),
    encodeVarintField(2, 1),
    name(8, 'w'),
    encodeBytesField(9, new Uint8Array(new Float32Array([0.5]).buffer)),
  ]);
  // x -> Relu -> h -> Relu -> y, every shape [1, 2, 2, 2], h's pinned by value_info too.
  const graph = concatBytes([
    relu('x', 'h'),
    relu('h', 'y'),
    name(2, 'g'),
    encodeBytesField(5, weight),
    encodeBytesField(11, valueInfo('x', [1, 2, 2, 2], 'DATA_BATCH')),
    encodeBytesField(11, valueInfo('w', [1])),
    encodeBytesField(12, valueInfo('y', [1, 2, 2, 2])),
    encodeBytesField(13, valueInfo('h', [1, 2, 2, 2])),
    encodeBytesField(13, valueInfo('unused', [2, 1])),
  ]);
  const model = concatBytes([
    encodeVarintField(1, 7),
    encodeBytesField(8, encodeVarintField(2, 13)),
    encodeBytesField(7, graph),
  ]);
  const input = (batch: number) =>
    new ort.Tensor(
      'float32',
      Float32Array.from({ length: batch * 8 }, (_, i) => i - 10),
      [batch, 2, 2, 2],
    );

  it('rewrites input and output, keeps the denotation and weights, drops value_info pinned at 1', () => {
    const edit = makeBatchSymbolic(model);
    expect(edit).toMatchObject({ inputs: ['x'], outputs: ['y'], droppedValueInfo: 1 });
    const editedGraph = fieldBytes(edit.bytes, readFields(edit.bytes).find((f) => f.number === 7)!);
    const fields = readFields(editedGraph);
    expect(fields.filter((f) => f.number === 13)).toHaveLength(1);
    const [input, weightInput] = fields
      .filter((f) => f.number === 11)
      .map((f) => Buffer.from(fieldBytes(editedGraph, f)));
    expect(input).toEqual(Buffer.from(valueInfo('x', ['batch', 2, 2, 2], 'DATA_BATCH')));
    expect(weightInput).toEqual(Buffer.from(valueInfo('w', [1])));
  });

  it('runs a batch of 3 only after the edit, with the single-run values', async () => {
    const fixed = await ort.InferenceSession.create(model);
    await expect(fixed.run({ x: input(3) })).rejects.toThrow();
    const single = (await fixed.run({ x: input(1) })).y!.data as Float32Array;
    const edited = await ort.InferenceSession.create(makeBatchSymbolic(model).bytes);
    const batched = (await edited.run({ x: input(3) })).y!;
    expect(batched.dims).toEqual([3, 2, 2, 2]);
    expect(Array.from((batched.data as Float32Array).subarray(0, 8))).toEqual(Array.from(single));
    await fixed.release();
    await edited.release();
  });
});
