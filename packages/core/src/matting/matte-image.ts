/**
 * Alpha matting off the main thread: one lazily started worker thread per process runs
 * `computeMatte`, so the caller's event loop (a queue worker renewing its job locks, a server)
 * stays free while a picture is matted. Jobs are served in order.
 *
 * The worker's file is `matting-worker.js` next to this module when running built code, and
 * `matting-worker.ts` loaded through tsx's ESM hooks when running from the TypeScript sources
 * (tests, `tsx`, the `source` export condition).
 */

import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from '../threads/module-worker.js';
import type { MatteInput, MatteOutput, MattingParams } from './compute-matte.js';
import type { MattingReply, MattingRequest } from './matting-protocol.js';

interface PendingJob {
  resolve: (output: MatteOutput) => void;
  reject: (error: Error) => void;
}

let worker: Worker | undefined;
let nextId = 1;
const pending = new Map<number, PendingJob>();

/**
 * Mattes a picture in the worker thread: the trimap from `mask` and `params` (the seed's
 * alpha_fg, alpha_bg, alpha_erode, alpha_base_size), closed-form alpha on the unknown band,
 * multilevel foreground colour, at the picture's size. The inputs are copied, never modified or
 * detached. Degenerate trimaps give the plain mask and a warning; bad sizes or parameters
 * reject with an Error naming them.
 */
export function matteImage(input: MatteInput): Promise<MatteOutput> {
  const { width, height } = input;
  if (input.rgb.length !== width * height * 3 || input.mask.length !== width * height) {
    return Promise.reject(
      new Error(
        `matteImage: expected ${width * height * 3} RGB bytes and ${width * height} mask bytes for ${width}x${height}, got ${input.rgb.length} and ${input.mask.length}`,
      ),
    );
  }
  const request: MattingRequest = {
    id: nextId++,
    // Fresh copies that own their memory: `Buffer.slice()` is a view of the caller's memory
    // (and of Node's shared pool), which the transfer below would detach.
    rgb: new Uint8Array(input.rgb),
    width,
    height,
    mask: new Uint8Array(input.mask),
    params: { ...input.params },
    maxPixels: input.maxPixels,
  };
  return new Promise<MatteOutput>((resolve, reject) => {
    let thread: Worker;
    try {
      thread = startedWorker();
    } catch (error) {
      reject(error as Error);
      return;
    }
    pending.set(request.id, { resolve, reject });
    thread.ref();
    thread.postMessage(request, [request.rgb.buffer, request.mask.buffer]);
  });
}

/**
 * A per-frame hook for video (the shape of the video pipeline's mask refiner): mattes one RGB
 * frame with its mask and resolves to the matted alpha (the frame's size, one byte per pixel).
 * Warnings (a degenerate trimap) go to `onWarning`.
 */
export function mattingFrameHook(
  params: MattingParams,
  onWarning: (message: string) => void = () => {},
  maxPixels: number | undefined = undefined,
): (frameRgb: Uint8Array, mask: Uint8Array, width: number, height: number) => Promise<Buffer> {
  return async (frameRgb, mask, width, height) => {
    const output = await matteImage({ rgb: frameRgb, mask, width, height, params, maxPixels });
    for (const warning of output.warnings) onWarning(warning);
    return Buffer.from(output.alpha.buffer, output.alpha.byteOffset, output.alpha.length);
  };
}

/** Stops the matting worker thread (the next job starts a new one); for tests and shutdown. */
export async function closeMattingWorker(): Promise<void> {
  const thread = worker;
  worker = undefined;
  if (thread) await thread.terminate();
}

function startedWorker(): Worker {
  if (worker) return worker;
  const thread = startModuleWorker(import.meta.url, 'matting-worker', 'alpha matting');
  thread.unref();
  thread.on('message', (reply: MattingReply) => {
    const job = pending.get(reply.id);
    if (!job) return;
    pending.delete(reply.id);
    if (pending.size === 0) thread.unref();
    if (reply.ok) job.resolve(reply.output);
    else job.reject(new Error(`alpha matting failed: ${reply.message}`));
  });
  const failAll = (error: Error) => {
    if (worker === thread) worker = undefined;
    for (const job of pending.values()) job.reject(error);
    pending.clear();
  };
  thread.on('error', (error) => failAll(new Error(`the matting worker failed: ${error.message}`)));
  thread.on('exit', (code) => {
    if (worker === thread) worker = undefined;
    if (pending.size > 0) failAll(new Error(`the matting worker exited (code ${code})`));
  });
  worker = thread;
  return thread;
}
