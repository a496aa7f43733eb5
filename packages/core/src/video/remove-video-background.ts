import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, extname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  type CoreConfig,
  DEFAULT_MAX_MATTING_PIXELS,
  videoLimitsOf,
  videoModelLanesOf,
} from '../config.js';
import { BgRemoverError } from '../errors.js';
import { useImageThreads } from '../image/runtime.js';
import { loadThreadedModel, type ThreadedModel } from '../inference/inference-thread.js';
import { mattingFrameHook } from '../matting/matte-image.js';
import type { ModelName } from '../models/registry.js';
import { chooseModel } from '../models/substitutes.js';
import { parseHexColor, type Rgba } from '../params/color.js';
import { parseVideoParams } from '../params/parse.js';
import {
  type VideoFormat,
  type VideoParams,
  type VideoParamsInput,
  videoBackgroundOf,
} from '../params/video-params.js';
import { type BackgroundFrames, pictureBackground, videoBackground } from './backgrounds.js';
import { composeFrameOver, composeFrameOverColor, cutoutFrame } from './compose-frame.js';
import { runOrderedFrames } from './frame-loop.js';
import { frameModelInput, fullSizeFrameMask, type MaskRefiner } from './frame-mask.js';
import { checkVideoLimits, type FramePlan, planFrames } from './frame-plan.js';
import { type FrameReader, openFrameReader } from './frame-reader.js';
import { type FrameWriter, openFrameWriter } from './frame-writer.js';
import { maskedContentFor, modelSizeScaling, streamModelSizeFrames } from './model-size-frames.js';
import { containerOf, encoderFor, type FrameContent, maskEncoderFor } from './output-formats.js';
import { probeVideo, type VideoInfo } from './probe.js';
import { applySourceAlpha, splitAlpha } from './source-alpha.js';

/** Frames written so far, and how many are expected (undefined when the source does not say). */
export interface VideoProgress {
  framesDone: number;
  framesTotal: number | undefined;
}

export interface RemoveVideoOptions {
  config: CoreConfig;
  /** Where to write the result; by default a new temporary folder (the caller removes it). */
  outputPath?: string;
  /** The background picture of video_over_image and gif_with_bg (bytes or a path). */
  backgroundImage?: Buffer | string;
  /** The background video of video_over_video (a path). */
  backgroundVideo?: string;
  /** Called after every frame written. */
  onProgress?: (progress: VideoProgress) => void;
  /** Aborting stops ffmpeg at once, deletes the partial output and rejects with the reason. */
  signal?: AbortSignal;
  /**
   * `frames` forces the full-size path (every frame through JavaScript), for comparisons and
   * benchmarks; by default jobs that need no full-size pixels in JavaScript take the model-size
   * path (see `maskedContentFor`).
   */
  pipeline?: 'auto' | 'frames';
  /**
   * Refines each frame's mask when `alpha_matting` is true; by default the matting module's
   * closed-form matting, frame by frame.
   */
  refineMask?: MaskRefiner;
}

/** Milliseconds spent, for benchmarks and logs. */
export interface VideoTimings {
  /** Inside the model's session.run, summed over frames. */
  inference: number;
  /** The whole call. */
  total: number;
}

export interface VideoResult {
  /** The file written. */
  path: string;
  contentType: 'video/quicktime' | 'video/mp4' | 'image/gif' | 'video/webm';
  format: VideoFormat;
  /** Frames written. */
  frames: number;
  width: number;
  height: number;
  /** Output frames per second. */
  fps: number;
  /** frames / fps. */
  durationSeconds: number;
  /** True when the source's audio was kept. */
  audio: boolean;
  model: ModelName;
  warnings: string[];
  timings: VideoTimings;
}

/**
 * Removes the background of every frame of a video (mp4, mov, webm, mkv, avi, animated GIF) and
 * writes the protocol's `video_format`. Frames stream from a decoder process through the model (on
 * its own thread) to an encoder process with back-pressure, at most three frames held, so memory
 * does not grow with the video's length; `framerate` resamples, `frame_limit` stops after N output frames, the source's
 * audio is kept where the container allows. Bad input throws `BgRemoverError` naming the file or
 * field; an abort rejects with the signal's reason and leaves no partial file.
 */
export async function removeVideoBackground(
  inputPath: string,
  params: VideoParamsInput | VideoParams,
  options: RemoveVideoOptions,
): Promise<VideoResult> {
  const started = performance.now();
  const { config, signal } = options;
  signal?.throwIfAborted();
  const parsed = parseVideoParams(params);
  useImageThreads(config.imageThreads);
  const warnings = collectWarnings(parsed, options);
  const { model: modelName, warnings: modelWarnings } = await chooseModel(parsed.model, config);
  warnings.push(...modelWarnings);
  const modelLoading = loadThreadedModel(modelName, config, {
    lanes: videoModelLanesOf(config),
  });
  modelLoading.catch(() => undefined);
  const limits = videoLimitsOf(config);
  let info: VideoInfo;
  let plan: FramePlan;
  try {
    info = await probeVideo(inputPath, limits.maxVideoPixels);
    plan = planFrames(info, parsed);
    checkVideoLimits(info, plan, limits);
    signal?.throwIfAborted();
  } catch (error) {
    // A refused file returns once the model has loaded: a caller that then closes the inference
    // thread must not cut a model load short (onnxruntime aborts the process).
    await modelLoading.catch(() => undefined);
    throw error;
  }
  const model = await modelLoading;
  signal?.throwIfAborted();
  warnings.push(...plan.warnings);

  const container = containerOf(parsed.video_format);
  const ownFolder = options.outputPath === undefined;
  const outputPath =
    options.outputPath ??
    join(
      await mkdtemp(join(tmpdir(), 'bgremover-video-')),
      `${basename(inputPath, extname(inputPath))}_processed.${container.extension}`,
    );
  // Only our own temporary folder is removed recursively: a caller's path is removed as a file,
  // never as a folder that happens to sit there.
  const cleanUp = () =>
    ownFolder
      ? rm(join(outputPath, '..'), { recursive: true, force: true })
      : rm(outputPath, { force: true }).catch(() => undefined);

  const stages: Stages = {};
  const stopAll = () => {
    stages.reader?.close();
    stages.background?.close();
    stages.writer?.abort();
  };
  const onAbort = () => stopAll();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const audio = container.extension !== 'gif' && info.hasAudio;
    const colour = backgroundColourOf(parsed, warnings);
    const masked =
      options.pipeline === 'frames'
        ? undefined
        : maskedContentFor(parsed, plan, colour, options.refineMask !== undefined);
    let streamed: { frames: number; inference: number };
    if (masked) {
      stages.writer = openFrameWriter(
        maskEncoderFor({
          format: parsed.video_format,
          content: masked,
          plan,
          maskSize: model.inputSize,
          source: { path: info.path, decoderOptions: plan.decoderOptions },
          audio,
          audioCodec: info.audioCodec,
          sourceSeconds: plan.frameLimit === undefined ? undefined : plan.frameLimit / plan.fps,
          outputPath,
        }),
      );
      const scaling = modelSizeScaling(plan.width, plan.height, model.inputSize);
      stages.reader = openFrameReader({
        path: info.path,
        width: scaling.width,
        height: scaling.height,
        filters: [...plan.decodeFilters, ...(scaling.filter ? [scaling.filter] : [])],
        frameLimit: plan.frameLimit,
        maxFrames: limits.maxVideoFrames,
        decoderOptions: plan.decoderOptions,
      });
      streamed = await streamModelSizeFrames(
        { model, plan, reader: stages.reader, writer: stages.writer, scaling },
        options,
      );
    } else {
      streamed = await streamFullSizeFrames(parsed, plan, info, model, colour, stages, {
        ...options,
        outputPath,
        audio,
        maxFrames: limits.maxVideoFrames,
        warnings,
      });
    }
    const { frames, inference } = streamed;
    signal?.throwIfAborted();
    await stages.writer?.finish();
    stages.background?.close();
    return {
      path: outputPath,
      contentType: container.contentType,
      format: parsed.video_format,
      frames,
      width: plan.width,
      height: plan.height,
      fps: plan.fps,
      durationSeconds: frames / plan.fps,
      audio,
      model: modelName,
      warnings,
      timings: { inference, total: performance.now() - started },
    };
  } catch (error) {
    stopAll();
    await cleanUp();
    if (signal?.aborted) throw signal.reason;
    throw error;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * The full-size path (alpha matting, sources with alpha, background pictures and videos,
 * translucent colours): every frame comes to JavaScript at full size, is scaled for the model,
 * and its mask is scaled back, refined and composed here before the encoder gets it.
 */
async function streamFullSizeFrames(
  parsed: VideoParams,
  plan: FramePlan,
  info: VideoInfo,
  model: ThreadedModel,
  colour: Rgba | undefined,
  stages: Stages,
  options: RemoveVideoOptions & FullSizeRun,
): Promise<{ frames: number; inference: number }> {
  const { config, warnings } = options;
  const frameStep = await frameComposer(parsed, plan, options, config, colour);
  stages.background = frameStep.background;
  stages.writer = openFrameWriter(
    encoderFor({
      format: parsed.video_format,
      content: frameStep.content,
      plan,
      audioSource: options.audio ? info.path : undefined,
      audioCodec: info.audioCodec,
      audioSeconds: plan.frameLimit === undefined ? undefined : plan.frameLimit / plan.fps,
      outputPath: options.outputPath,
    }),
  );
  stages.reader = openFrameReader({
    path: info.path,
    width: plan.width,
    height: plan.height,
    filters: plan.decodeFilters,
    frameLimit: plan.frameLimit,
    maxFrames: options.maxFrames,
    alpha: plan.sourceAlpha,
    decoderOptions: plan.decoderOptions,
  });
  const refine = parsed.alpha_matting
    ? (options.refineMask ??
      mattingRefiner(parsed, warnings, config.maxMattingPixels ?? DEFAULT_MAX_MATTING_PIXELS))
    : undefined;
  return streamFrames(
    { model, plan, reader: stages.reader, writer: stages.writer, refine, frameStep, info },
    options,
  );
}

/** What the full-size path needs beyond the caller's options. */
interface FullSizeRun {
  outputPath: string;
  audio: boolean;
  maxFrames: number;
  /** The job's warnings, which matting adds to as frames go. */
  warnings: string[];
}

interface Stages {
  reader?: FrameReader;
  writer?: FrameWriter;
  background?: BackgroundFrames;
}

/** Turns a frame and its mask into what the encoder reads. */
interface FrameComposer {
  content: FrameContent;
  background: BackgroundFrames | undefined;
  compose(rgb: Buffer, mask: Buffer): Promise<Uint8Array>;
}

async function frameComposer(
  params: VideoParams,
  plan: FramePlan,
  options: RemoveVideoOptions,
  config: CoreConfig,
  colour: Rgba | undefined,
): Promise<FrameComposer> {
  const maxPixels = config.maxInputPixels;
  const format = params.video_format;
  if (format === 'mattekey') {
    return { content: 'matte', background: undefined, compose: async (_rgb, mask) => mask };
  }
  let background: BackgroundFrames | undefined;
  const backgroundKind = videoBackgroundOf(format);
  if (backgroundKind === 'image') {
    background = await pictureBackground(requireBackgroundImage(options, format), plan, maxPixels);
  } else if (backgroundKind === 'video') {
    const videoPixels = videoLimitsOf(config).maxVideoPixels;
    background = await videoBackground(requireBackgroundVideo(options), plan, videoPixels);
  }
  if (background) {
    const frames = background;
    return {
      content: 'composite',
      background,
      compose: async (rgb, mask) => composeFrameOver(rgb, mask, await frames.next()),
    };
  }
  if (colour) {
    return {
      content: colour.a < 255 ? 'composite-alpha' : 'composite',
      background: undefined,
      compose: async (rgb, mask) => composeFrameOverColor(rgb, mask, colour),
    };
  }
  return {
    content: 'cutout',
    background: undefined,
    compose: async (rgb, mask) => cutoutFrame(rgb, mask),
  };
}

interface StreamContext {
  model: ThreadedModel;
  plan: FramePlan;
  reader: FrameReader;
  writer: FrameWriter;
  refine: MaskRefiner | undefined;
  frameStep: FrameComposer;
  info: VideoInfo;
}

interface PreparedFrame {
  rgb: Buffer;
  /** The source's own alpha, when it has one. */
  alpha: Buffer | undefined;
  input: Float32Array;
}

/**
 * The full-size frame loop. The model runs on its own threads (`model.lanes` frames at once);
 * while it works, the main thread reads and prepares the next frame (sharp resizes run on
 * libuv's pool) and scales, composes and hands the previous one to the encoder (decoding and
 * encoding run in ffmpeg's own processes). Writes stay in order, and at most `lanes + 2` frames
 * are held at any time whatever the video's length.
 */
async function streamFrames(
  context: StreamContext,
  options: RemoveVideoOptions,
): Promise<{ frames: number; inference: number }> {
  const { model, plan, reader, writer, refine, frameStep } = context;
  const { width, height } = plan;
  const readPrepared = async (): Promise<PreparedFrame | undefined> => {
    const decoded = await reader.next();
    if (!decoded) return undefined;
    let rgb = decoded;
    let alpha: Buffer | undefined;
    if (plan.sourceAlpha) {
      ({ rgb, alpha } = splitAlpha(decoded));
      reader.release(decoded);
    }
    return { rgb, alpha, input: await frameModelInput(model, rgb, width, height) };
  };
  let frames = 0;
  const postAndWrite = async (frame: PreparedFrame, small: Uint8Array): Promise<void> => {
    const mask = await fullSizeFrameMask(model, small, frame.rgb, width, height, refine);
    if (frame.alpha) applySourceAlpha(mask, frame.alpha);
    const composed = await frameStep.compose(frame.rgb, mask);
    // Every composition returns a new buffer, so the decoded frame can be reused.
    if (composed.buffer !== frame.rgb.buffer) reader.release(frame.rgb);
    await writer.write(composed);
    frames++;
    options.onProgress?.({ framesDone: frames, framesTotal: plan.expectedFrames });
  };

  const { inference } = await runOrderedFrames(
    {
      read: readPrepared,
      infer: (frame) => model.predict(frame.input),
      write: postAndWrite,
    },
    { inFlight: model.lanes, signal: options.signal },
  );
  return { frames, inference };
}

/**
 * The colour a job composes over (mp4_with_color, or video_bg_color_enabled on a format without a
 * background of its own), or undefined. A translucent colour stays translucent only where the
 * container keeps alpha; elsewhere it is made opaque, with a warning.
 */
function backgroundColourOf(params: VideoParams, warnings: string[]): Rgba | undefined {
  const format = params.video_format;
  const ownBackground = format === 'mattekey' || videoBackgroundOf(format) !== undefined;
  if (ownBackground || (format !== 'mp4_with_color' && !params.video_bg_color_enabled)) {
    return undefined;
  }
  const colour = parseHexColor(params.video_bg_color);
  if (colour.a === 255 || containerOf(format).alpha) return colour;
  warnings.push(`${format} has no transparency: video_bg_color is used as an opaque colour`);
  return { ...colour, a: 255 };
}

function requireBackgroundImage(options: RemoveVideoOptions, format: VideoFormat): Buffer | string {
  if (options.backgroundImage === undefined) {
    throw new BgRemoverError(
      'missing_background',
      `video_format=${format} needs a background picture: send it as bg_image`,
      { field: 'bg_image' },
    );
  }
  return options.backgroundImage;
}

function requireBackgroundVideo(options: RemoveVideoOptions): string {
  if (options.backgroundVideo === undefined) {
    throw new BgRemoverError(
      'missing_background',
      'video_format=video_over_video needs a background video: send it as bg_video',
      { field: 'bg_video' },
    );
  }
  return options.backgroundVideo;
}

/**
 * Alpha matting for every frame (the same closed-form matting as images, on the matting thread).
 * A degenerate frame falls back to its plain mask; each kind of warning is reported once (the
 * first frame's figures).
 */
function mattingRefiner(
  params: VideoParams,
  warnings: string[],
  maxPixels: number | undefined,
): MaskRefiner {
  const seen = new Set<string>();
  return mattingFrameHook(
    params,
    (message) => {
      // "stopped after 400 iterations with relative residual 7.0e-5" and "... 3.2e-4" are the
      // same news: one warning per kind, not one per frame.
      const kind = message.replace(/\d+(\.\d+)?(e[+-]?\d+)?/gi, '#');
      if (seen.has(kind)) return;
      seen.add(kind);
      warnings.push(`some frames: ${message}`);
    },
    maxPixels,
  );
}

function collectWarnings(params: VideoParams, options: RemoveVideoOptions): string[] {
  const warnings: string[] = [];
  const format = params.video_format;
  const background = videoBackgroundOf(format);
  if (options.backgroundImage !== undefined && background !== 'image') {
    warnings.push(`the background picture is ignored because video_format=${format}`);
  }
  if (options.backgroundVideo !== undefined && background !== 'video') {
    warnings.push(`the background video is ignored because video_format=${format}`);
  }
  if (params.video_bg_color_enabled && background !== undefined) {
    warnings.push(
      `video_bg_color is ignored because video_format=${format} uses the background you sent`,
    );
  }
  if (params.video_bg_color_enabled && format === 'mattekey') {
    warnings.push('video_bg_color is ignored because video_format=mattekey writes the mask alone');
  }
  return warnings;
}
