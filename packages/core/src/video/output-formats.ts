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
        // Realtime mode looks ahead at no frame, yet libvpx still allocates and clears a
        // 25-frame lookahead for each of its two encoders (colour and alpha) unless told: the
        // same bytes out, 6 ms less a 1080p frame.
        '-lag-in-frames',
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

/** Source audio codecs (ffprobe's names) each container takes as they are. */
const COPYABLE_AUDIO: Record<OutputContainer['extension'], ReadonlySet<string>> = {
  mov: new Set(['aac']),
  mp4: new Set(['aac']),
  webm: new Set(['opus', 'vorbis']),
  gif: new Set(),
};

/**
 * The audio codec arguments for the source's first track (mapped from input `input`): the
 * track copied as it is when the container takes its codec (AAC into mov and mp4, Opus or
 * Vorbis into webm: no second lossy generation, and no encoder time), else encoded to the
 * container's codec at 128 kb/s. Empty when the container has no audio (GIF).
 */
export function audioOptions(
  container: OutputContainer,
  sourceCodec: string | undefined,
  input: number,
): string[] {
  const codec = audioCodecOf(container);
  if (codec === undefined) return [];
  const map = ['-map', `${input}:a:0`];
  if (sourceCodec !== undefined && COPYABLE_AUDIO[container.extension].has(sourceCodec)) {
    return [...map, '-c:a', 'copy'];
  }
  return [...map, '-c:a', codec, '-b:a', '128k'];
}

/**
 * GIF palettes: one per frame (`stats_mode=single`, `new=1`), so the graph holds one frame at a
 * time whatever the length (a whole-clip palette would buffer every frame). Transparent GIFs
 * reserve one palette entry; pixels under alpha 128 become transparent (GIF alpha is 1-bit).
 */
function gifFilter(transparent: boolean, input = '[0:v]'): string {
  return transparent
    ? `${input}split[a][b];[a]palettegen=stats_mode=single:reserve_transparent=1[p];[b][p]paletteuse=new=1:alpha_threshold=128[v]`
    : `${input}split[a][b];[a]palettegen=stats_mode=single:reserve_transparent=0[p];[b][p]paletteuse=new=1[v]`;
}

export interface EncoderRequest {
  format: VideoFormat;
  content: FrameContent;
  plan: FramePlan;
  /** The source file, for its audio; undefined to write no audio. */
  audioSource: string | undefined;
  /** The source's audio codec (copied when the container takes it). */
  audioCodec: string | undefined;
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
  const extraInputs: FfmpegInput[] = [];
  const maps: string[] = [];
  let complexFilter: string | undefined;
  if (container.extension === 'gif') {
    complexFilter = gifFilter(content !== 'composite');
    maps.push('-map', '[v]');
  } else {
    maps.push('-map', '0:v:0');
  }
  const audio =
    request.audioSource === undefined ? [] : audioOptions(container, request.audioCodec, 1);
  if (request.audioSource !== undefined && audio.length > 0) {
    extraInputs.push({
      source: request.audioSource,
      options: request.audioSeconds === undefined ? [] : ['-t', request.audioSeconds.toFixed(6)],
    });
    maps.push(...audio);
  }
  return {
    frames,
    extraInputs,
    ...(complexFilter === undefined ? {} : { complexFilter }),
    outputOptions: [...maps, '-threads', String(ffmpegThreads()), ...videoCodecOptions(format)],
    outputPath: request.outputPath,
  };
}

/** What the encoder of the model-size path makes of the source and the masks. */
export type MaskedContent =
  | { kind: 'cutout' }
  | { kind: 'matte' }
  /** Over an opaque colour (`#rrggbb`). */
  | { kind: 'over-color'; hex: string };

export interface MaskEncoderRequest {
  format: VideoFormat;
  content: MaskedContent;
  plan: FramePlan;
  /** The masks' side in pixels (the model's input size): what is written to the encoder. */
  maskSize: number;
  /** The source, decoded again here at full size with the plan's filters. */
  source: { path: string; decoderOptions: readonly string[] };
  /** True to keep the source's first audio track. */
  audio: boolean;
  /** The source's audio codec (copied when the container takes it). */
  audioCodec: string | undefined;
  /** Cut the output (the sound; the picture is cut by the masks) at this many seconds, or undefined. */
  sourceSeconds: number | undefined;
  outputPath: string;
}

/**
 * Builds the encoder of the model-size path: it reads only the model-size masks (gray) from its
 * stdin, decodes the source itself at full size with the plan's filters, scales each mask up
 * with Lanczos (as `resizeMask` does for images) and merges it as alpha (`alphamerge`), over a
 * colour when asked (`overlay`), or writes the mask alone. Frames are paired by index, not by
 * timestamp (`setpts=N/rate`), and the graph ends with the masks (`shortest`), so `frame_limit`
 * and the frame cap hold as on the frames path. Full-size pixels never leave ffmpeg.
 */
export function maskEncoderFor(request: MaskEncoderRequest): EncoderSpec {
  const { format, content, plan } = request;
  const container = containerOf(format);
  const byIndex = `setpts=N/(${plan.fpsRational})/TB`;
  const graph = [
    `[0:v]scale=${plan.width}:${plan.height}:flags=lanczos+accurate_rnd+full_chroma_int,${byIndex}[mask]`,
  ];
  let last = '[mask]';
  if (content.kind !== 'matte') {
    const decode = [...plan.decodeFilters, byIndex].join(',');
    graph.push(`[1:v:0]${decode}[source]`, '[source][mask]alphamerge=shortest=1[cut]');
    last = '[cut]';
    if (content.kind === 'over-color') {
      graph.push(
        `color=c=0x${content.hex.replace(/^#/, '')}:s=${plan.width}x${plan.height}:r=${plan.fpsRational}[ground]`,
        `[ground]${last}overlay=shortest=1:format=auto[over]`,
      );
      last = '[over]';
    }
  }
  if (container.extension === 'gif') {
    graph.push(gifFilter(content.kind !== 'over-color', last));
  } else {
    graph.push(`${last}null[v]`);
  }
  const audio = request.audio ? audioOptions(container, request.audioCodec, 1) : [];
  const keepAudio = audio.length > 0;
  const needsSource = content.kind !== 'matte' || keepAudio;
  const extraInputs: FfmpegInput[] = needsSource
    ? [
        {
          source: request.source.path,
          options: [...request.source.decoderOptions, '-threads', String(ffmpegThreads())],
        },
      ]
    : [];
  const maps = ['-map', '[v]'];
  maps.push(...audio);
  // Frames are already counted by the masks; this cuts the sound with them (frame_limit).
  if (request.sourceSeconds !== undefined) maps.push('-t', request.sourceSeconds.toFixed(6));
  return {
    frames: {
      pixFmt: 'gray',
      width: request.maskSize,
      height: request.maskSize,
      fpsRational: plan.fpsRational,
    },
    extraInputs,
    complexFilter: graph.join(';'),
    outputOptions: [...maps, '-threads', String(ffmpegThreads()), ...videoCodecOptions(format)],
    outputPath: request.outputPath,
  };
}
