/**
 * The inference thread's entry: loads models with the process' usual `loadModel` (its own
 * session cache, in this thread) and runs `predictMask` on the inputs it is sent, in order.
 */

import { predictMask } from '../image/predict-mask.js';
import { loadModel } from '../models/sessions.js';
import { serveThread } from '../threads/thread-server.js';
import type { InferenceMethods } from './inference-protocol.js';

serveThread<InferenceMethods>('inference-worker', {
  async load({ model, config }) {
    const loaded = await loadModel(model, config);
    return {
      result: { inputSize: loaded.spec.inputSize, normalization: loaded.spec.input },
    };
  },
  async run({ model, config, input }) {
    const mask = await predictMask(await loadModel(model, config), input);
    return { result: mask, transfer: [mask.buffer as ArrayBuffer] };
  },
});
