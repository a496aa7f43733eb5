/**
 * Model inference on a worker thread of its own, for videos and (in servers) images.
 * onnxruntime-node's session.run holds the calling thread for the whole run (~0.3 s for u2netp
 * on two cores), which would stall the ffmpeg pipes or a server's event loop on the main
 * thread; on a worker thread, decoding, matte scaling, composition and encoding go on while
 * the model runs. One thread per process, started lazily, shared by every job, and not keeping
 * the process alive when idle.
 */

import type { CoreConfig } from '../config.js';
import type { InputNormalization, ModelName } from '../models/registry.js';
import { threadClient } from '../threads/thread-rpc.js';
import type { InferenceMethods } from './inference-protocol.js';

/** A model ready on the inference thread. */
export interface ThreadedModel {
  name: ModelName;
  inputSize: number;
  normalization: InputNormalization;
  /** Runs the model on one normalised input (transferred, so not usable afterwards). */
  predict(input: Float32Array): Promise<Uint8Array>;
  /** Frames `predictBatch` runs at once: INFERENCE_BATCH on a symbolic-batch session, else 1. */
  batch: number;
  /** Runs the model on up to `batch` inputs in one run (transferred); their masks in order. */
  predictBatch(inputs: Float32Array[]): Promise<Uint8Array[]>;
}

const thread = threadClient<InferenceMethods>({
  callerUrl: import.meta.url,
  worker: 'inference-worker',
  purpose: 'inference',
});

/**
 * Loads a model on the inference thread (starting the thread on first use) and returns a handle
 * whose `predict` resolves to the mask at the model's size, stretched 0..255, exactly as
 * `predictMask` does on the calling thread. Model errors (not installed, damaged) arrive as the
 * same `BgRemoverError`s.
 */
export async function loadThreadedModel(
  name: ModelName,
  config: CoreConfig,
): Promise<ThreadedModel> {
  const loaded = await thread.call('load', { model: name, config });
  return {
    name,
    inputSize: loaded.inputSize,
    normalization: loaded.normalization,
    predict: (input) =>
      thread.call('run', { model: name, config, input }, [input.buffer as ArrayBuffer]),
    batch: loaded.batch,
    predictBatch: (inputs) =>
      thread.call(
        'runBatch',
        { model: name, config, inputs },
        inputs.map((input) => input.buffer as ArrayBuffer),
      ),
  };
}

/** Stops the inference thread (the next job starts a new one); for tests and shutdown. */
export function closeInferenceThread(): Promise<void> {
  return thread.close();
}
