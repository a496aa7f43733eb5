/**
 * Model inference on a worker thread of its own, for videos and (in servers) images.
 * onnxruntime-node's session.run holds the calling thread for the whole run (~0.3 s for u2netp
 * on two cores), which would stall the ffmpeg pipes or a server's event loop on the main
 * thread; on a worker thread, decoding, matte scaling, composition and encoding go on while
 * the model runs. One thread per process (more for video: see `loadThreadedModel`'s lanes),
 * started lazily, shared by every job, and not keeping the process alive when idle.
 */

import type { CoreConfig } from '../config.js';
import type { InputNormalization, ModelName } from '../models/registry.js';
import { type ThreadClient, threadClient } from '../threads/thread-rpc.js';
import type { InferenceMethods } from './inference-protocol.js';

/** A model ready on the inference thread (or, for video, on each of its lanes). */
export interface ThreadedModel {
  name: ModelName;
  inputSize: number;
  normalization: InputNormalization;
  /**
   * Runs the model on one normalised input (transferred, so not usable afterwards), on the lane
   * with the fewest runs waiting.
   */
  predict(input: Float32Array): Promise<Uint8Array>;
  /** Frames `predictBatch` runs at once: INFERENCE_BATCH on a symbolic-batch session, else 1. */
  batch: number;
  /** Runs the model on up to `batch` inputs in one run (transferred); their masks in order. */
  predictBatch(inputs: Float32Array[]): Promise<Uint8Array[]>;
  /** Runs worth keeping in flight at once: one per lane. */
  lanes: number;
}

const laneThreads: ThreadClient<InferenceMethods>[] = [];

/** The inference thread of lane `index`; lane 0 is the one images use. */
function laneThread(index: number): ThreadClient<InferenceMethods> {
  let thread = laneThreads[index];
  if (!thread) {
    thread = threadClient<InferenceMethods>({
      callerUrl: import.meta.url,
      worker: 'inference-worker',
      purpose: 'inference',
    });
    laneThreads[index] = thread;
  }
  return thread;
}

/**
 * Loads a model on the inference thread (starting the thread on first use) and returns a handle
 * whose `predict` resolves to the mask at the model's size, stretched 0..255, exactly as
 * `predictMask` does on the calling thread. Model errors (not installed, damaged) arrive as the
 * same `BgRemoverError`s.
 *
 * With `lanes` above 1 (video, see `videoModelLanesOf`) the model is loaded on that many
 * threads, each session with an equal share of `intraOpThreads`, and runs go to the least busy
 * one: a caller keeping `lanes` runs in flight gets them run side by side.
 */
export async function loadThreadedModel(
  name: ModelName,
  config: CoreConfig,
  options: { lanes?: number } = {},
): Promise<ThreadedModel> {
  const lanes = Math.max(1, Math.floor(options.lanes ?? 1));
  const laneConfig: CoreConfig =
    lanes === 1
      ? config
      : { ...config, intraOpThreads: Math.max(1, Math.floor(config.intraOpThreads / lanes)) };
  const threads = Array.from({ length: lanes }, (_, index) => laneThread(index));
  const loads = threads.map((thread) => thread.call('load', { model: name, config: laneConfig }));
  const settled = await Promise.allSettled(loads);
  const failed = settled.find((outcome) => outcome.status === 'rejected');
  if (failed) throw failed.reason;
  const loaded = await loads[0];
  if (!loaded) throw new Error('no inference lane was loaded');
  const busy = threads.map(() => 0);
  /** Runs `call` on the lane with the fewest runs in flight. */
  const onLeastBusy = async <T>(
    call: (thread: ThreadClient<InferenceMethods>) => Promise<T>,
  ): Promise<T> => {
    const lane = busy.indexOf(Math.min(...busy));
    const thread = threads[lane] ?? laneThread(0);
    busy[lane] = (busy[lane] ?? 0) + 1;
    try {
      return await call(thread);
    } finally {
      busy[lane] = (busy[lane] ?? 1) - 1;
    }
  };
  return {
    name,
    inputSize: loaded.inputSize,
    normalization: loaded.normalization,
    predict: (input) =>
      onLeastBusy((thread) =>
        thread.call('run', { model: name, config: laneConfig, input }, [
          input.buffer as ArrayBuffer,
        ]),
      ),
    batch: loaded.batch,
    predictBatch: (inputs) =>
      onLeastBusy((thread) =>
        thread.call(
          'runBatch',
          { model: name, config: laneConfig, inputs },
          inputs.map((input) => input.buffer as ArrayBuffer),
        ),
      ),
    lanes,
  };
}

/** Stops the inference threads (the next job starts new ones); for tests and shutdown. */
export async function closeInferenceThread(): Promise<void> {
  await Promise.all(laneThreads.map((thread) => thread.close()));
}
