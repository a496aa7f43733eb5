/**
 * The worker side of `thread-rpc.ts`: serves a thread's methods to the thread that started it,
 * one call at a time in the order they arrive.
 */

import { parentPort } from 'node:worker_threads';
import { isBgRemoverError } from '../errors.js';
import type { RequestOf, ResultOf, ThreadAnswer, ThreadCall, ThreadMethods } from './thread-rpc.js';

/** A method's result and the buffers in it to move to the caller rather than copy. */
export interface Served<R> {
  result: R;
  transfer?: ArrayBuffer[];
}

/** An implementation of each of the methods `M`. */
export type ThreadHandlers<M extends ThreadMethods<M>> = {
  [K in keyof M]: (
    request: RequestOf<M[K]>,
  ) => Served<ResultOf<M[K]>> | Promise<Served<ResultOf<M[K]>>>;
};

/**
 * Serves `handlers` to the parent thread; `name` names the module in the error thrown when it
 * is not run as a worker thread.
 */
export function serveThread<M extends ThreadMethods<M>>(
  name: string,
  handlers: ThreadHandlers<M>,
): void {
  const port = parentPort;
  if (!port) throw new Error(`${name} must run in a worker thread`);
  const table = handlers as Record<
    string,
    (request: unknown) => Served<unknown> | Promise<Served<unknown>>
  >;
  let queue: Promise<void> = Promise.resolve();
  port.on('message', (call: ThreadCall) => {
    queue = queue.then(async () => {
      let answer: ThreadAnswer;
      let transfer: ArrayBuffer[] = [];
      try {
        const handler = Object.hasOwn(table, call.method) ? table[call.method] : undefined;
        if (!handler) throw new Error(`${name} has no method ${call.method}`);
        const served = await handler(call.request);
        answer = { id: call.id, ok: true, result: served.result };
        transfer = served.transfer ?? [];
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        answer = isBgRemoverError(error)
          ? {
              id: call.id,
              ok: false,
              message,
              code: error.code,
              ...(error.field === undefined ? {} : { field: error.field }),
            }
          : { id: call.id, ok: false, message };
      }
      port.postMessage(answer, transfer);
    });
  });
}
