/**
 * Calls into a worker thread, for the threads core keeps off the main thread (model inference,
 * alpha matting). A thread serves named methods (`serveThread`, in the worker's module); the
 * client starts it lazily on the first call, keeps the process alive only while calls are in
 * flight, answers them in order, and turns the thread's failures back into errors: a
 * `BgRemoverError` thrown in the thread arrives as the same code and field.
 *
 * The worker's file is `<worker>.js` next to the calling module in built code, `<worker>.ts`
 * through tsx's ESM hooks when running from the TypeScript sources (see `startModuleWorker`).
 */

import type { Worker } from 'node:worker_threads';
import { BgRemoverError, type BgRemoverErrorCode } from '../errors.js';
import { startModuleWorker } from './module-worker.js';

/**
 * A thread's methods, each taking one request and giving one result (both structured-clone
 * values). Declare them as a type with one function per method.
 */
export type ThreadMethods<M> = { [K in keyof M]: (request: never) => unknown };

/** A method's request. */
export type RequestOf<F> = F extends (request: infer R) => unknown ? R : never;
/** A method's result. */
export type ResultOf<F> = F extends (request: never) => infer R ? R : never;

/** Main thread -> worker thread. */
export interface ThreadCall {
  id: number;
  method: string;
  request: unknown;
}

/** Worker thread -> main thread. */
export type ThreadAnswer =
  | { id: number; ok: true; result: unknown }
  | {
      id: number;
      ok: false;
      message: string;
      /** Set when the failure was a `BgRemoverError` (a missing model, say). */
      code?: BgRemoverErrorCode;
      field?: string;
    };

/** Where the thread's module is, and what it does (for error messages). */
export interface ThreadClientOptions {
  /** `import.meta.url` of the calling module; the worker's module sits next to it. */
  callerUrl: string;
  /** The worker's module name, without extension. */
  worker: string;
  /** What the thread does, as in "alpha matting failed: ...". */
  purpose: string;
}

/** The calling side of a thread serving the methods `M`. */
export interface ThreadClient<M extends ThreadMethods<M>> {
  /**
   * Calls `method` on the thread (starting it if needed). `transfer` lists buffers of the
   * request to move rather than copy (they are detached here afterwards).
   */
  call<K extends keyof M & string>(
    method: K,
    request: RequestOf<M[K]>,
    transfer?: ArrayBuffer[],
  ): Promise<ResultOf<M[K]>>;
  /** Stops the thread (the next call starts a new one); calls in flight reject. */
  close(): Promise<void>;
}

interface Pending {
  resolve: (result: unknown) => void;
  reject: (error: Error) => void;
}

/** A client for the thread whose module `options.worker` serves the methods `M`. */
export function threadClient<M extends ThreadMethods<M>>(
  options: ThreadClientOptions,
): ThreadClient<M> {
  const { callerUrl, worker: workerName, purpose } = options;
  let thread: Worker | undefined;
  let nextId = 1;
  const pending = new Map<number, Pending>();

  const started = (): Worker => {
    if (thread) return thread;
    const worker = startModuleWorker(callerUrl, workerName, purpose);
    worker.unref();
    worker.on('message', (answer: ThreadAnswer) => {
      const call = pending.get(answer.id);
      if (!call) return;
      pending.delete(answer.id);
      if (pending.size === 0) worker.unref();
      if (answer.ok) call.resolve(answer.result);
      else if (answer.code) {
        call.reject(
          new BgRemoverError(
            answer.code,
            answer.message,
            answer.field === undefined ? {} : { field: answer.field },
          ),
        );
      } else call.reject(new Error(`${purpose} failed: ${answer.message}`));
    });
    const failAll = (error: Error) => {
      if (thread === worker) thread = undefined;
      for (const call of pending.values()) call.reject(error);
      pending.clear();
    };
    worker.on('error', (error) =>
      failAll(new Error(`the ${purpose} thread failed: ${error.message}`)),
    );
    worker.on('exit', (code) => {
      if (thread === worker) thread = undefined;
      if (pending.size > 0) failAll(new Error(`the ${purpose} thread exited (code ${code})`));
    });
    thread = worker;
    return worker;
  };

  return {
    call(method, request, transfer = []) {
      return new Promise((resolve, reject) => {
        let worker: Worker;
        try {
          worker = started();
        } catch (error) {
          reject(error as Error);
          return;
        }
        const message: ThreadCall = { id: nextId++, method, request };
        pending.set(message.id, { resolve: resolve as (result: unknown) => void, reject });
        worker.ref();
        worker.postMessage(message, transfer);
      });
    },
    async close() {
      const running = thread;
      thread = undefined;
      if (running) await running.terminate();
    },
  };
}
