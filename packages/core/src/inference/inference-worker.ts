/**
 * The inference thread's entry: loads models with the process' usual `loadModel` (its own
 * session cache, in this thread) and runs `predictMask` (or, for a batch of video frames,
 * `predictMasksBatch`) on the inputs it is sent, in order.
 */

import { inferenceBatchOf } from '../config.js';
import { predictMask } from '../image/predict-mask.js';
import { predictMasksBatch } from '../image/predict-masks-batch.js';
import { loadModel } from '../models/sessions.js';
import { serveThread } from '../threads/thread-server.js';
import type { InferenceMethods } from './inference-protocol.js';

serveThread<InferenceMethods>('inference-worker', {
  async load({ model, config }) {
    const loaded = await loadModel(model, config);
    return {
      result: {
        inputSize: loaded.spec.inputSize,
        normalization: loaded.spec.input,
        batch: loaded.symbolicBatch ? inferenceBatchOf(config) : 1,
      },
    };
  },
  async run({ model, config, input }) {
    const mask = await predictMask(await loadModel(model, config), input);
    return { result: mask, transfer: [mask.buffer as ArrayBuffer] };
  },
  async runBatch({ model, config, inputs }) {
    const masks = await predictMasksBatch(await loadModel(model, config), inputs, {
      maxBatch: inferenceBatchOf(config),
    });
    return { result: masks, transfer: masks.map((mask) => mask.buffer as ArrayBuffer) };
  },
});
