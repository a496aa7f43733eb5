/**
 * The matting thread's entry: runs `computeMatte` on each job it is sent and posts the result
 * back, moving the typed arrays rather than copying them. Started by `matte-image.ts`.
 */

import { serveThread } from '../threads/thread-server.js';
import { computeMatte } from './compute-matte.js';
import type { MattingMethods } from './matting-protocol.js';

serveThread<MattingMethods>('matting-worker', {
  matte(input) {
    const output = computeMatte(input);
    return { result: output, transfer: [output.alpha.buffer, output.foreground.buffer] };
  },
});
