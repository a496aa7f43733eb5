import type { VideoFormat } from '../params/video-params.js';
import { type FfmpegInput, ffmpegThreads } from './ffmpeg.js';
import type { FramePlan } from './frame-plan.js';
import type { EncoderSpec, RawFrameFormat } from './frame-writer.js';

/** What each output format is, as a file. */
export interface OutputContainer {
  extension: 'mov' | 'mp4' | 'gif' | 'webm';
  contentType: 'video/quicktime' | 'video/mp4' | 'image/gif' | 'video/webm';
  /** True when the file keeps an alpha channel. */
  alpha: boolean;
}

/** How the frames handed to the encoder are made. */
export type FrameContent =
  /** The cut-out: colour plus the mask as alpha. */
  | 'cutout'
  /** The mask alone, one byte per pixel. */
  | 'matte'
  /** The subject composed over a background (colour, picture or video), opaque. */
  | 'composite'
  /** The subject over a translucent colour: colour plus alpha. */
  | 'composite-alpha';

/** The container of each format. */
export function containerOf(format: VideoFormat): OutputContainer {
  switch (format) {
    case 'mov':
      return { extension: 'mov', contentType: 'video/quicktime', alpha: true };
    case 'webm':
      return { extension: 'webm', contentType: 'video/webm', alpha: true };
    case 'gif':
      return { extension: 'gif', contentType: 'image/gif', alpha: true };
    case 'gif_with_bg':
      return { extension: 'gif', contentType: 'image/gif', alpha: false };
    case 'mattekey':
    case 'video_over_image':
    case 'video_over_video':
    case 'mp4_with_color':
      return { extension: 'mp4', contentType: 'video/mp4', alpha: false };
  }
}

const H264 = [
  '-c:v',
  'libx264',
  '-pix_fmt',
  'yuv420p',
  '-preset',
  'veryfast',
  '-crf',
  '18',
  '-movflags',
  '+faststart',
];

/** The video codec arguments of each format (after the frames are in `[v]` or input 0). */
function videoCodecOptions(format: VideoFormat): string[] {
  switch (format) {
    case 'mov':
      // prores_aw writes the same ProRes 4444 with alpha as prores_ks at about a third of the
      // CPU time (measured here at 720p: 26 vs 90 ms a frame), time the model needs more.
      return [
        '-c:v',
        'prores_aw',
        '-profile:v',
        '4',
        '-pix_fmt',
        'yuva444p10le',
        '-vendor',
        'apl0',
        '-f',
        'mov',
      ];
    case 'webm':
      return [
        '-c:v',
        'libvpx-vp9',
        '-pix_fmt',
        'yuva420p',
        '-b:v',
        '0',
        '-crf',
        '32',
        '-deadline',
        'realtime',
        '-cpu-used',
        '8',
        '-row-mt',
        '1',
        '-auto-alt-ref',
        '0',
        '-f',
        'webm',
      ];
    case 'gif':
    case 'gif_with_bg':
      return ['-f', 'gif', '-loop', '0'];
    default:
      return [...H264, '-f', 'mp4'];
  }
}

/** The audio codec of a container, or undefined where audio cannot go (GIF). */
function audioCodecOf(container: OutputContainer): string | undefined {
  if (container.extension === 'gif') return undefined;
  return container.extension === 'webm' ? 'libopus' : 'aac';
}

/**
 * GIF palettes: one per frame (`stats_mode=single`, `new=1`), so the graph holds one frame at a
 * time whatever the length (a whole-clip palette would buffer every frame). Transparent GIFs
 * reserve one palette entry; pixels under alpha 128 become transparent (GIF alpha is 1-bit).
 */
function gifFilter(transparent: boolean): string {
  return transparent
    ? '[0:v]split[a][b];[a]palettegen=stats_mode=single:reserve_transparent=1[p];[b][p]paletteuse=new=1:alpha_threshold=128[v]'
    : '[0:v]split[a][b];[a]palettegen=stats_mode=single:reserve_transparent=0[p];[b][p]paletteuse=new=1[v]';
}

export interface EncoderRequest {
  format: VideoFormat;
  content: FrameContent;
  plan: FramePlan;
  /** The source file, for its audio; undefined to write no audio. */
  audioSource: string | undefined;
  /** Cut the audio at this many seconds (frame_limit), or undefined for all of it. */
  audioSeconds: number | undefined;
  outputPath: string;
}

/**
 * Builds the encoder of one format: which raw frames it reads, its filter graph, codecs and
 * muxer. mov is ProRes 4444 (yuva444p10le) + AAC; webm is VP9 with alpha (yuva420p) + Opus;
 * the mp4 formats are H.264 yuv420p + AAC; GIFs have no audio. Audio, when there is a source,
 * is the source's first audio track, cut to the frames written.
 */
export function encoderFor(request: EncoderRequest): EncoderSpec {
  const { format, content, plan } = request;
  const container = containerOf(format);
  const frames: RawFrameFormat = {
    pixFmt: content === 'matte' ? 'gray' : content === 'composite' ? 'rgb24' : 'rgba',
    width: plan.width,
    height: plan.height,
    fpsRational: plan.fpsRational,
  };
  const audioCodec = audioCodecOf(container);
  const extraInputs: FfmpegInput[] = [];
  const maps: string[] = [];
  let complexFilter: string | undefined;
  if (container.extension === 'gif') {
    complexFilter = gifFilter(content !== 'composite');
    maps.push('-map', '[v]');
  } else {
    maps.push('-map', '0:v:0');
  }
  if (audioCodec && request.audioSource !== undefined) {
    extraInputs.push({
      source: request.audioSource,
      options: request.audioSeconds === undefined ? [] : ['-t', request.audioSeconds.toFixed(6)],
    });
    maps.push('-map', '1:a:0', '-c:a', audioCodec, '-b:a', '128k');
  }
  return {
    frames,
    extraInputs,
    ...(complexFilter === undefined ? {} : { complexFilter }),
    outputOptions: [...maps, '-threads', String(ffmpegThreads()), ...videoCodecOptions(format)],
    outputPath: request.outputPath,
  };
}
