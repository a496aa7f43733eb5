/**
 * The worker thread's entry: runs `computeMatte` on each job it is sent and posts the result
 * back, transferring the typed arrays rather than copying them. Started by `matte-image.ts`.
 */

import { parentPort } from 'node:worker_threads';
import { computeMatte, type MatteInput } from './compute-matte.js';
import type { MattingReply, MattingRequest } from './matting-protocol.js';

const port = parentPort;
if (!port) throw new Error('matting-worker must run in a worker thread');

port.on('message', (request: MattingRequest) => {
  const input: MatteInput = {
    rgb: request.rgb,
    width: request.width,
    height: request.height,
    mask: request.mask,
    params: request.params,
    maxPixels: request.maxPixels,
  };
  let reply: MattingReply;
  try {
    const output = computeMatte(input);
    reply = { id: request.id, ok: true, output };
    port.postMessage(reply, [output.alpha.buffer, output.foreground.buffer]);
  } catch (error) {
    reply = { id: request.id, ok: false, message: (error as Error).message ?? String(error) };
    port.postMessage(reply);
  }
});
