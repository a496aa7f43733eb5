/**
 * @bgremover/core/contract: what producers (the API, the Discord and Slack apps, the jobs
 * package) need of core without its pipeline: the protocol's parameters as zod schemas, errors,
 * colours, model names and files, file sniffing, video detection and length checks (ffprobe, a
 * child process), and environment parsing. Importing it loads no native module (no
 * onnxruntime, no libvips), which a test checks.
 */
export * from './config.js';
export * from './errors.js';
export { acceptedImageFormats } from './image/accepted-input.js';
export { type SniffedType, sniffFileType } from './image/sniff.js';
export * from './logger.js';
export * from './models/provision.js';
export * from './models/registry.js';
export * from './params/color.js';
export * from './params/image-params.js';
export * from './params/parse.js';
export * from './params/video-params.js';
export * from './shared/bytes.js';
export * from './shared/env-fields.js';
export * from './shared/hosts.js';
export { isVideoFile, videoFileExtensions } from './video/detect.js';
export {
  checkVideoLimits,
  GIF_DEFAULT_FPS,
  GIF_MAX_FPS,
  GIF_MAX_SIDE,
  planFrames,
  plannedFrameCount,
  type VideoLengthLimits,
} from './video/frame-plan.js';
export { acceptedVideoContainers, probeVideo, type VideoInfo } from './video/probe.js';
