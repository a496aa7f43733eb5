/**
 * Model inference for video frames on a worker thread of its own. onnxruntime-node's
 * session.run holds the calling thread for the whole run (~0.3 s for u2netp on two cores), which
 * would stall the ffmpeg pipes on the main thread; on a worker thread, decoding, matte scaling,
 * composition and encoding go on while the model runs. One thread per process, started lazily,
 * reused by every video, and not keeping the process alive when idle.
 *
 * The thread's file is `inference-worker.js` next to this module in built code, and
 * `inference-worker.ts` through tsx's ESM hooks when running from the TypeScript sources.
 */
import type { Worker } from 'node:worker_threads';
import type { CoreConfig } from '../config.js';
import { BgRemoverError } from '../errors.js';
import type { InputNormalization, ModelName } from '../models/registry.js';
import { startModuleWorker } from '../threads/module-worker.js';
import type { InferenceReply, InferenceRequest } from './inference-protocol.js';

/** A model ready on the inference thread. */
export interface ThreadedModel {
  name: ModelName;
  inputSize: number;
  normalization: InputNormalization;
  /** Runs the model on one normalised input (transferred, so not usable afterwards). */
  predict(input: Float32Array): Promise<Uint8Array>;
}

interface Pending {
  resolve: (reply: InferenceReply & { ok: true }) => void;
  reject: (error: Error) => void;
}

let thread: Worker | undefined;
let nextId = 1;
const pending = new Map<number, Pending>();

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
  const loaded = await send({ id: nextId++, kind: 'load', model: name, config });
  if (loaded.kind !== 'load') throw new Error('inference thread: unexpected reply to load');
  return {
    name,
    inputSize: loaded.inputSize,
    normalization: loaded.normalization,
    async predict(input) {
      const result = await send({ id: nextId++, kind: 'run', model: name, config, input }, [
        input.buffer as ArrayBuffer,
      ]);
      if (result.kind !== 'run') throw new Error('inference thread: unexpected reply to run');
      return result.mask;
    },
  };
}

/** Stops the inference thread (the next video starts a new one); for tests and shutdown. */
export async function closeInferenceThread(): Promise<void> {
  const running = thread;
  thread = undefined;
  if (running) await running.terminate();
}

function send(
  request: InferenceRequest,
  transfer: ArrayBuffer[] = [],
): Promise<InferenceReply & { ok: true }> {
  return new Promise((resolve, reject) => {
    let worker: Worker;
    try {
      worker = startedThread();
    } catch (error) {
      reject(error as Error);
      return;
    }
    pending.set(request.id, { resolve, reject });
    worker.ref();
    worker.postMessage(request, transfer);
  });
}

function startedThread(): Worker {
  if (thread) return thread;
  const worker = startModuleWorker(import.meta.url, 'inference-worker', 'video inference');
  worker.unref();
  worker.on('message', (reply: InferenceReply) => {
    const job = pending.get(reply.id);
    if (!job) return;
    pending.delete(reply.id);
    if (pending.size === 0) worker.unref();
    if (reply.ok) job.resolve(reply);
    else if (reply.code) {
      job.reject(
        new BgRemoverError(reply.code, reply.message, reply.field ? { field: reply.field } : {}),
      );
    } else job.reject(new Error(`inference failed: ${reply.message}`));
  });
  const failAll = (error: Error) => {
    if (thread === worker) thread = undefined;
    for (const job of pending.values()) job.reject(error);
    pending.clear();
  };
  worker.on('error', (error) =>
    failAll(new Error(`the inference thread failed: ${error.message}`)),
  );
  worker.on('exit', (code) => {
    if (thread === worker) thread = undefined;
    if (pending.size > 0) failAll(new Error(`the inference thread exited (code ${code})`));
  });
  thread = worker;
  return worker;
}
