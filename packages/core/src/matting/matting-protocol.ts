/** The messages between the main thread and the matting worker thread. */

import type { MatteOutput, MattingParams } from './compute-matte.js';

export interface MattingRequest {
  id: number;
  rgb: Uint8Array<ArrayBuffer>;
  width: number;
  height: number;
  mask: Uint8Array<ArrayBuffer>;
  params: MattingParams;
  maxPixels: number | undefined;
}

export type MattingReply =
  | { id: number; ok: true; output: MatteOutput }
  | { id: number; ok: false; message: string };
