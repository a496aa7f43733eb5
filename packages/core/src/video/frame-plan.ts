import { BgRemoverError } from '../errors.js';
import { type InputRole, mainInput } from '../image/accepted-input.js';
import type { VideoFormat, VideoParams } from '../params/video-params.js';
import type { VideoInfo } from './probe.js';

/** GIF policy: default frame rate (capped by the source's), in frames per second. */
export const GIF_DEFAULT_FPS = 15;
/** GIF policy: the highest rate written; browsers slow down faster GIFs (delays under 2/100 s). */
export const GIF_MAX_FPS = 50;
/** GIF policy: the longer side is scaled down (never up) to at most this many pixels. */
export const GIF_MAX_SIDE = 640;

/** Formats written as GIF. */
export function isGifFormat(format: VideoFormat): boolean {
  return format === 'gif' || format === 'gif_with_bg';
}

/** Formats written as H.264 yuv420p, which needs an even width and height. */
export function isH264Format(format: VideoFormat): boolean {
  return (
    format === 'mattekey' ||
    format === 'video_over_image' ||
    format === 'video_over_video' ||
    format === 'mp4_with_color'
  );
}

/**
 * Formats whose encoder needs an even width and height: H.264 yuv420p, and ProRes (prores_aw
 * refuses odd widths). VP9 and GIF take any size.
 */
export function needsEvenSize(format: VideoFormat): boolean {
  return isH264Format(format) || format === 'mov';
}

/** The frames the pipeline works on: one size and one constant rate from decode to encode. */
export interface FramePlan {
  width: number;
  height: number;
  /** Output rate as ffmpeg's rational (`30000/1001`) and as a number. */
  fpsRational: string;
  fps: number;
  /** Process and write at most this many frames (undefined: all). */
  frameLimit: number | undefined;
  /** Frames expected, for progress (undefined when the source states no duration). */
  expectedFrames: number | undefined;
  /** ffmpeg filters that turn decoded source frames into these frames. */
  decodeFilters: string[];
  /** ffmpeg options before the source's `-i` (the decoder that keeps alpha). */
  decoderOptions: string[];
  /** Frames come with the source's alpha (RGBA from the decoder), applied over the mask. */
  sourceAlpha: boolean;
  warnings: string[];
}

/**
 * Decides the working frames for a video and an output format: interlaced sources are
 * deinterlaced (bwdif, one frame per frame), `framerate` resamples with the fps filter (never
 * only relabels) and variable-rate sources are resampled to their standard rate, GIFs follow
 * the policy above (rate and size), H.264 and ProRes outputs lose one pixel row/column when the
 * source's size is odd, `frame_limit` caps the count, and when audio is kept and outlasts the
 * picture, the last frame is held until the audio ends.
 */
export function planFrames(info: VideoInfo, params: VideoParams): FramePlan {
  const warnings: string[] = [];
  const format = params.video_format;
  let fpsRational = info.fpsRational;
  let fps = info.fps;
  if (params.framerate !== undefined) {
    fpsRational = `${params.framerate}/1`;
    fps = params.framerate;
  } else if (isGifFormat(format) && info.fps > GIF_DEFAULT_FPS) {
    fpsRational = `${GIF_DEFAULT_FPS}/1`;
    fps = GIF_DEFAULT_FPS;
  }
  if (isGifFormat(format) && fps > GIF_MAX_FPS) {
    warnings.push(`GIF is written at ${GIF_MAX_FPS} fps at most (framerate ${fps} asked)`);
    fpsRational = `${GIF_MAX_FPS}/1`;
    fps = GIF_MAX_FPS;
  }

  let { width, height } = info;
  const decodeFilters = [
    ...(info.interlaced ? ['bwdif=mode=send_frame:parity=auto:deint=all'] : []),
  ];
  decodeFilters.push(`fps=${fpsRational}`);
  if (isGifFormat(format) && Math.max(width, height) > GIF_MAX_SIDE) {
    const scale = GIF_MAX_SIDE / Math.max(width, height);
    width = Math.max(1, Math.round(width * scale));
    height = Math.max(1, Math.round(height * scale));
    decodeFilters.push(`scale=${width}:${height}:flags=lanczos`);
  }
  if (needsEvenSize(format) && (width % 2 === 1 || height % 2 === 1)) {
    const evenWidth = width - (width % 2);
    const evenHeight = height - (height % 2);
    const codec = format === 'mov' ? 'ProRes' : 'H.264';
    warnings.push(
      `${codec} needs an even size: the output is ${evenWidth}x${evenHeight}, one pixel smaller than the source's ${width}x${height}`,
    );
    decodeFilters.push(`crop=${evenWidth}:${evenHeight}:0:0`);
    width = evenWidth;
    height = evenHeight;
  }

  const sourceFrames =
    info.duration !== undefined && fps !== info.fps
      ? Math.max(1, Math.round(info.duration * fps))
      : info.estimatedFrames;
  const frameLimit = params.frame_limit;
  const expectedFrames =
    frameLimit === undefined
      ? sourceFrames
      : sourceFrames === undefined
        ? undefined
        : Math.min(frameLimit, sourceFrames);
  const audioTail = heldAudioTail(info, format, frameLimit);
  if (audioTail > 0) {
    decodeFilters.push(`tpad=stop_mode=clone:stop_duration=${audioTail.toFixed(3)}`);
  }
  return {
    width,
    height,
    fpsRational,
    fps,
    frameLimit,
    expectedFrames:
      expectedFrames === undefined ? undefined : expectedFrames + Math.round(audioTail * fps),
    decodeFilters,
    decoderOptions: info.decoderOptions,
    sourceAlpha: info.hasAlpha,
    warnings,
  };
}

/**
 * Seconds by which the source's audio outlasts its picture, when the output keeps the audio
 * (not GIF) and all of it (no frame_limit): the picture's last frame is held that long so the
 * video does not end before its sound. Differences under 50 ms (one frame, AAC padding) are
 * ignored.
 */
function heldAudioTail(
  info: VideoInfo,
  format: VideoFormat,
  frameLimit: number | undefined,
): number {
  if (!info.hasAudio || isGifFormat(format) || frameLimit !== undefined) return 0;
  if (info.duration === undefined || info.containerDuration === undefined) return 0;
  const tail = info.containerDuration - info.duration;
  return tail > 0.05 ? tail : 0;
}

/** The length limits a video job is held to (see `DEFAULT_VIDEO_LIMITS` in config). */
export interface VideoLengthLimits {
  maxVideoSeconds: number;
  maxVideoFrames: number;
}

/**
 * Frames a plan would write: the source's length at the output rate, capped by frame_limit.
 * The length is the longest the file states anywhere (the stream's duration, the container's, or
 * its frame count at its own rate), so one understated figure does not hide a long video: the
 * fps filter fills any gap between timestamps with copies of the last frame. Undefined when the
 * file states no length at all (the frame reader's cap is then the only bound).
 */
export function plannedFrameCount(info: VideoInfo, plan: FramePlan): number | undefined {
  const seconds = [
    info.duration,
    info.containerDuration,
    info.estimatedFrames === undefined ? undefined : info.estimatedFrames / info.fps,
  ].filter((value): value is number => value !== undefined && Number.isFinite(value));
  if (seconds.length === 0) return plan.frameLimit;
  const sourceFrames = Math.max(1, Math.ceil(Math.max(...seconds) * plan.fps - 1e-6));
  return plan.frameLimit === undefined ? sourceFrames : Math.min(plan.frameLimit, sourceFrames);
}

/**
 * Refuses a video whose planned output (after framerate and frame_limit) is longer than
 * `maxVideoSeconds` or has more than `maxVideoFrames` frames, with an `input_too_long`
 * `BgRemoverError` naming the limit, the planned figures and how to get under it.
 */
export function checkVideoLimits(
  info: VideoInfo,
  plan: FramePlan,
  limits: VideoLengthLimits,
  role: InputRole = mainInput,
): void {
  const planned = plannedFrameCount(info, plan);
  if (planned === undefined) return;
  const seconds = planned / plan.fps;
  const fps = Number(plan.fps.toFixed(3));
  if (seconds > limits.maxVideoSeconds + 1e-6) {
    const frames = Math.min(Math.floor(limits.maxVideoSeconds * plan.fps), limits.maxVideoFrames);
    throw new BgRemoverError(
      'input_too_long',
      `${role.label} would be processed for ${formatSeconds(seconds)} (${planned} frames at ${fps} fps), over the limit of ${limits.maxVideoSeconds} s (MAX_VIDEO_SECONDS): cut it shorter or send frame_limit=${frames} or less`,
      { field: role.field },
    );
  }
  if (planned > limits.maxVideoFrames) {
    const rate = Math.floor((limits.maxVideoFrames / seconds) * 1000) / 1000;
    const lowerRate = rate >= 1 ? ` or a lower framerate (framerate=${Math.floor(rate)})` : '';
    throw new BgRemoverError(
      'input_too_long',
      `${role.label} would make ${planned} frames (${formatSeconds(seconds)} at ${fps} fps), over the limit of ${limits.maxVideoFrames} frames (MAX_VIDEO_FRAMES): send frame_limit=${limits.maxVideoFrames} or less${lowerRate}`,
      { field: role.field },
    );
  }
}

function formatSeconds(seconds: number): string {
  return seconds >= 3600
    ? `${(seconds / 3600).toFixed(1)} h`
    : seconds >= 120
      ? `${(seconds / 60).toFixed(1)} min`
      : `${seconds.toFixed(1)} s`;
}
