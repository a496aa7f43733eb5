import sharp from 'sharp';
import { normalizeForModel, resizeForModel } from '../image/model-input.js';
import type { ThreadedModel } from '../inference/inference-thread.js';
import type { Rgba } from '../params/color.js';
import { type VideoParams, videoBackgroundOf } from '../params/video-params.js';
import { runOrderedFrames } from './frame-loop.js';
import type { FramePlan } from './frame-plan.js';
import type { FrameReader } from './frame-reader.js';
import type { FrameWriter } from './frame-writer.js';
import type { MaskedContent } from './output-formats.js';

/**
 * The model-size path's content for a job, or undefined when the job needs full-size pixels in
 * JavaScript: alpha matting (it refines the mask against the frame's colours), a source with its
 * own alpha (multiplied into the mask), a background picture or video, or a translucent colour.
 * `colour` is the opaque colour the job composes over, if any (see `backgroundColourOf`).
 */
export function maskedContentFor(
  params: VideoParams,
  plan: FramePlan,
  colour: Rgba | undefined,
  refinesMasks: boolean,
): MaskedContent | undefined {
  if (params.alpha_matting || refinesMasks || plan.sourceAlpha) return undefined;
  if (params.video_format === 'mattekey') return { kind: 'matte' };
  if (videoBackgroundOf(params.video_format) !== undefined) return undefined;
  if (colour === undefined) return { kind: 'cutout' };
  if (colour.a < 255) return undefined;
  return { kind: 'over-color', hex: hexOf(colour) };
}

function hexOf(colour: Rgba): string {
  return [colour.r, colour.g, colour.b]
    .map((value) => value.toString(16).padStart(2, '0'))
    .join('');
}

/**
 * How a frame reaches the model's square input on the model-size path. ffmpeg shrinks each side
 * that is longer than the model's input (Lanczos, as libvips does: the two agree to within 0.03
 * of a level on average), so full-size pixels never leave ffmpeg; a side that is shorter is left
 * for `resizeForModel` (libvips) to stretch on the small frame, since the two libraries place
 * upsampled pixels differently and the masks follow the images' preprocessing.
 */
export interface ModelSizeScaling {
  /** The frames the decoder writes: each side at most the model's input. */
  width: number;
  height: number;
  /** The decoder's scale filter, or undefined when the frame already fits. */
  filter: string | undefined;
  /** True when the frames still need stretching to the square input. */
  stretch: boolean;
}

/** The scaling for frames of `width` x `height` and a model input of `size` pixels. */
export function modelSizeScaling(width: number, height: number, size: number): ModelSizeScaling {
  const shrunkWidth = Math.min(width, size);
  const shrunkHeight = Math.min(height, size);
  const shrinks = shrunkWidth !== width || shrunkHeight !== height;
  return {
    width: shrunkWidth,
    height: shrunkHeight,
    filter: shrinks
      ? `scale=${shrunkWidth}:${shrunkHeight}:flags=lanczos+accurate_rnd+full_chroma_int`
      : undefined,
    stretch: shrunkWidth !== size || shrunkHeight !== size,
  };
}

export interface MaskStreamContext {
  model: ThreadedModel;
  plan: FramePlan;
  /** Decodes frames at `scaling`'s size (packed RGB). */
  reader: FrameReader;
  scaling: ModelSizeScaling;
  /** Takes one model-size mask per frame (the encoder scales and merges it). */
  writer: FrameWriter;
}

/**
 * The model-size frame loop: frames are normalised and sent to the model (one per run, or
 * `model.batch` per run on a GPU session with a symbolic batch; `model.lanes` runs at once)
 * while the next ones are decoded, and their masks go to the encoder, in order, while the model
 * works on the next. The main thread touches about 0.4 MB a frame, whatever the video's size
 * (and runs libvips only where a side of the video is shorter than the model's input). Returns
 * the frames written and the milliseconds during which the model was running.
 */
export async function streamModelSizeFrames(
  context: MaskStreamContext,
  options: {
    signal?: AbortSignal | undefined;
    onProgress?:
      | ((progress: { framesDone: number; framesTotal: number | undefined }) => void)
      | undefined;
  },
): Promise<{ frames: number; inference: number }> {
  const { model, plan, reader, writer, scaling } = context;
  const modelInput = async (rgb: Buffer): Promise<Float32Array> => {
    if (!scaling.stretch) return normalizeForModel(rgb, model.normalization);
    const raw = { width: scaling.width, height: scaling.height, channels: 3 as const };
    const square = await resizeForModel(sharp(rgb, { raw }), model.inputSize);
    return normalizeForModel(square, model.normalization);
  };
  // A group is one model run: one frame, or up to `model.batch` on a symbolic-batch session;
  // undefined once the video has no frame left.
  const readGroup = async (): Promise<Float32Array[] | undefined> => {
    const group: Float32Array[] = [];
    while (group.length < model.batch) {
      const rgb = await reader.next();
      if (!rgb) break;
      group.push(await modelInput(rgb));
      reader.release(rgb);
    }
    return group.length > 0 ? group : undefined;
  };
  const predictGroup = async (group: Float32Array[]): Promise<Uint8Array[]> =>
    group.length === 1 && group[0] ? [await model.predict(group[0])] : model.predictBatch(group);
  let frames = 0;
  const { inference } = await runOrderedFrames(
    {
      read: readGroup,
      infer: predictGroup,
      write: async (_group, masks) => {
        for (const mask of masks) {
          await writer.write(mask);
          frames++;
          options.onProgress?.({ framesDone: frames, framesTotal: plan.expectedFrames });
        }
      },
    },
    { inFlight: model.lanes, signal: options.signal },
  );
  return { frames, inference };
}
