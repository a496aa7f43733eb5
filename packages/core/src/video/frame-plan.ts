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
  warnings: string[];
}

/**
 * Decides the working frames for a video and an output format: `framerate` resamples with the
 * fps filter (never only relabels), GIFs follow the policy above (rate and size), H.264 outputs
 * lose one pixel row/column when the source's size is odd, and `frame_limit` caps the count.
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
  const decodeFilters = [`fps=${fpsRational}`];
  if (isGifFormat(format) && Math.max(width, height) > GIF_MAX_SIDE) {
    const scale = GIF_MAX_SIDE / Math.max(width, height);
    width = Math.max(1, Math.round(width * scale));
    height = Math.max(1, Math.round(height * scale));
    decodeFilters.push(`scale=${width}:${height}:flags=lanczos`);
  }
  if (isH264Format(format) && (width % 2 === 1 || height % 2 === 1)) {
    const evenWidth = width - (width % 2);
    const evenHeight = height - (height % 2);
    warnings.push(
      `H.264 needs an even size: the output is ${evenWidth}x${evenHeight}, one pixel smaller than the source's ${width}x${height}`,
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
  return { width, height, fpsRational, fps, frameLimit, expectedFrames, decodeFilters, warnings };
}
