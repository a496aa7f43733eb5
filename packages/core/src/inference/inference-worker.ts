/**
 * The inference thread's entry: loads models with the process' usual `loadModel` (its own
 * session cache, in this thread) and runs `predictMask` on the inputs it is sent, in order.
 */
import { parentPort } from 'node:worker_threads';
import { isBgRemoverError } from '../errors.js';
import { predictMask } from '../image/predict-mask.js';
import type { ModelName } from '../models/registry.js';
import { loadModel } from '../models/sessions.js';
import type { InferenceReply, InferenceRequest } from './inference-protocol.js';

const port = parentPort;
if (!port) throw new Error('inference-worker.ts must run in a worker thread');

let queue: Promise<void> = Promise.resolve();
port.on('message', (request: InferenceRequest) => {
  queue = queue.then(() => serve(request));
});

async function serve(request: InferenceRequest): Promise<void> {
  try {
    const model = await loadModel(request.model as ModelName, request.config);
    if (request.kind === 'load') {
      reply({
        id: request.id,
        ok: true,
        kind: 'load',
        inputSize: model.spec.inputSize,
        normalization: model.spec.input,
      });
      return;
    }
    const mask = await predictMask(model, request.input);
    reply({ id: request.id, ok: true, kind: 'run', mask }, [mask.buffer as ArrayBuffer]);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    reply(
      isBgRemoverError(error)
        ? {
            id: request.id,
            ok: false,
            message,
            code: error.code,
            ...(error.field === undefined ? {} : { field: error.field }),
          }
        : { id: request.id, ok: false, message },
    );
  }
}

function reply(message: InferenceReply, transfer: ArrayBuffer[] = []): void {
  port?.postMessage(message, transfer);
}
