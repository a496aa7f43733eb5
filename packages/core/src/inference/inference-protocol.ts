import type { CoreConfig } from '../config.js';
import type { BgRemoverErrorCode } from '../errors.js';
import type { InputNormalization } from '../models/registry.js';

/** Main thread -> inference thread. */
export type InferenceRequest =
  | { id: number; kind: 'load'; model: string; config: CoreConfig }
  | { id: number; kind: 'run'; model: string; config: CoreConfig; input: Float32Array };

/** Inference thread -> main thread. */
export type InferenceReply =
  | { id: number; ok: true; kind: 'load'; inputSize: number; normalization: InputNormalization }
  | { id: number; ok: true; kind: 'run'; mask: Uint8Array }
  | {
      id: number;
      ok: false;
      message: string;
      /** Set when the failure was a `BgRemoverError` (a missing model, say). */
      code?: BgRemoverErrorCode;
      field?: string;
    };
