/**
 * @bgremover/core: the background-removal pipeline. Parameters (the tables of the protocol we speak, docs/protocol.md, as zod
 * schemas), the model registry and its provisioning, and image background removal. It knows
 * nothing of Redis, HTTP or chat. Producers that need only the contract (parameters, errors,
 * models, sniffing) import `@bgremover/core/contract`, which loads no native module.
 */
export * from './contract.js';
export type { RawImage } from './image/decode.js';
export { normalizeForModel } from './image/model-input.js';
export { stretchToBytes } from './image/predict-mask.js';
export {
  type BatchOptions,
  DEFAULT_MAX_BATCH,
  predictMasksBatch,
  predictRawBatch,
} from './image/predict-masks-batch.js';
export * from './image/remove-image-background.js';
export { closeInferenceThread } from './inference/inference-thread.js';
export {
  MAX_MATTING_PIXELS,
  MAX_UNKNOWN_PIXELS,
  type MatteInput,
  type MatteOutput,
  type MatteStats,
  type MattingParams,
} from './matting/compute-matte.js';
export { closeMattingWorker, matteImage, mattingFrameHook } from './matting/matte-image.js';
export { buildTrimap, type Trimap, type TrimapOptions } from './matting/trimap.js';
export * from './models/checksum.js';
export { assembleChunkedResource, listResourceChunks } from './models/chunked-resource.js';
export * from './models/sessions.js';
export * from './models/substitutes.js';
export type { MaskRefiner } from './video/frame-mask.js';
export { containerOf, type OutputContainer } from './video/output-formats.js';
export * from './video/remove-video-background.js';
