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
