/** The matting thread's methods (see `thread-rpc.ts`). */

import type { MatteInput, MatteOutput } from './compute-matte.js';

export type MattingMethods = {
  /** `computeMatte` on the thread; the input's arrays own their memory (they are moved). */
  matte(
    input: MatteInput & { rgb: Uint8Array<ArrayBuffer>; mask: Uint8Array<ArrayBuffer> },
  ): MatteOutput;
};
