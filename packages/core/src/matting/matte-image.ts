/**
 * Alpha matting off the main thread: one lazily started worker thread per process
 * (`matting-worker.ts`, through `thread-rpc.ts`) runs `computeMatte`, so the caller's event
 * loop (a queue worker renewing its job locks, a server) stays free while a picture is matted.
 * Jobs are served in order.
 */

import { threadClient } from '../threads/thread-rpc.js';
import type { MatteInput, MatteOutput, MattingParams } from './compute-matte.js';
import type { MattingMethods } from './matting-protocol.js';

const thread = threadClient<MattingMethods>({
  callerUrl: import.meta.url,
  worker: 'matting-worker',
  purpose: 'alpha matting',
});

/**
 * Mattes a picture in the worker thread: the trimap from `mask` and `params` (the protocol's
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
  const request = {
    // Fresh copies that own their memory: `Buffer.slice()` is a view of the caller's memory
    // (and of Node's shared pool), which the transfer below would detach.
    rgb: new Uint8Array(input.rgb),
    width,
    height,
    mask: new Uint8Array(input.mask),
    params: { ...input.params },
    maxPixels: input.maxPixels,
  };
  return thread.call('matte', request, [request.rgb.buffer, request.mask.buffer]);
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
export function closeMattingWorker(): Promise<void> {
  return thread.close();
}
