/** The inference thread's methods (see `thread-rpc.ts`). */

import type { CoreConfig } from '../config.js';
import type { InputNormalization, ModelName } from '../models/registry.js';

export type InferenceMethods = {
  /** Loads a model (once per thread) and describes its input. */
  load(request: { model: ModelName; config: CoreConfig }): {
    inputSize: number;
    normalization: InputNormalization;
    /** Frames `runBatch` takes per model run (1 when the session has a fixed batch). */
    batch: number;
  };
  /** Runs the model on one normalised input; the mask at the model's size, 0..255. */
  run(request: { model: ModelName; config: CoreConfig; input: Float32Array }): Uint8Array;
  /** Runs the model on several inputs in one run (a symbolic-batch session); masks in order. */
  runBatch(request: { model: ModelName; config: CoreConfig; inputs: Float32Array[] }): Uint8Array[];
};
