import { open, stat } from 'node:fs/promises';
import { BgRemoverError } from '../errors.js';
import { emptyInputError, type InputRole, mainInput } from '../image/accepted-input.js';
import { sniffFileType } from '../image/sniff.js';
import { type ProbedStream, probeMedia } from './ffmpeg.js';

/** Video containers accepted as input (ffprobe's format names, `mov,mp4,...` split). */
export const acceptedVideoContainers = ['mov', 'mp4', 'matroska', 'webm', 'avi', 'gif'] as const;

/** A video input that passed inspection. */
export interface VideoInfo {
  path: string;
  /** Displayed size (rotation applied, as ffmpeg's decoder outputs it). */
  width: number;
  height: number;
  /** Frames per second as a rational ffmpeg understands, e.g. `30000/1001`. */
  fpsRational: string;
  fps: number;
  /** Seconds; undefined when neither the stream nor the container states it. */
  duration: number | undefined;
  /** Frames in the file: stated by the container, or estimated from duration x fps. */
  estimatedFrames: number | undefined;
  hasAudio: boolean;
  /** The first audio track's codec (ffprobe's name, e.g. `aac`, `opus`), when there is one. */
  audioCodec: string | undefined;
  codec: string | undefined;
  container: string;
  /** The container's duration in seconds (the longest stream: audio may outlast the video). */
  containerDuration: number | undefined;
  /** The stream stores fields (interlaced); frames are deinterlaced before anything else. */
  interlaced: boolean;
  /** The source's frames have an alpha channel (VP8/VP9 with alpha, ProRes 4444, PNG, GIF...). */
  hasAlpha: boolean;
  /** ffmpeg options placed before the input: the decoder that keeps alpha, when needed. */
  decoderOptions: string[];
  /** The stream's frames come at irregular intervals (a phone clip); `fps` is then a standard rate. */
  variableFrameRate: boolean;
}

/** The background video of video_over_video. */
export const backgroundVideoInput: InputRole = {
  label: 'The background video (bg_video)',
  field: 'bg_video',
};

/**
 * Checks that a file is a video we can process and reads its geometry, rate and streams.
 * Refuses, with a `BgRemoverError` naming the problem: a missing or empty file, a file ffprobe
 * cannot read (text, corrupt, truncated), a file without a video stream (audio only), a still
 * image, an unknown container, a zero-length video, and one over `maxPixels` per frame
 * (MAX_VIDEO_PIXELS). ffprobe itself runs under a time and memory limit (see `probeMedia`).
 */
export async function probeVideo(
  path: string,
  maxPixels: number,
  role: InputRole = mainInput,
): Promise<VideoInfo> {
  const { label, field } = role;
  const size = await stat(path).then(
    (info) => (info.isFile() ? info.size : -1),
    () => undefined,
  );
  if (size === undefined) {
    throw new BgRemoverError('unsupported_input', `${label} does not exist (${path})`, { field });
  }
  if (size < 0) throw new BgRemoverError('unsupported_input', `${label} is not a file`, { field });
  if (size === 0) throw emptyInputError(role);

  const probed = await probeMedia(path).catch(async (error: Error) => {
    throw await unreadableError(path, role, error);
  });
  const container = acceptedContainerOf(probed.formatName);
  const video = probed.streams.find(
    (stream) => stream.codecType === 'video' && !stream.attachedPicture,
  );
  if (!video) {
    const hasAudio = probed.streams.some((stream) => stream.codecType === 'audio');
    throw new BgRemoverError(
      'unsupported_input',
      `${label} has no video stream${hasAudio ? ' (it contains audio only)' : ''}`,
      { field },
    );
  }
  if (!container) {
    const still = probed.formatName?.endsWith('_pipe') || probed.formatName === 'image2';
    throw new BgRemoverError(
      'unsupported_input',
      still
        ? `${label} is a still image (${probed.formatName}), not a video: send it as an image`
        : `${label} is in the ${probed.formatName ?? 'unknown'} container, which is not supported: send MP4, MOV, WebM, MKV, AVI or an animated GIF`,
      { field },
    );
  }
  const rotation = Math.abs(Math.round(video.rotation)) % 180;
  const [codedWidth, codedHeight] = [video.width ?? 0, video.height ?? 0];
  const [width, height] = rotation === 90 ? [codedHeight, codedWidth] : [codedWidth, codedHeight];
  if (width <= 0 || height <= 0) {
    throw new BgRemoverError('corrupt_input', `${label} has a video stream with no readable size`, {
      field,
    });
  }
  if (width * height > maxPixels) {
    throw new BgRemoverError(
      'input_too_large',
      `${label} is ${width}x${height} per frame, over the limit of ${maxPixels} pixels per video frame (MAX_VIDEO_PIXELS)`,
      { field },
    );
  }
  const rate = constantFrameRateOf(video);
  if (!rate) {
    throw new BgRemoverError('corrupt_input', `${label} has a video stream with no frame rate`, {
      field,
    });
  }
  const duration = video.duration ?? probed.duration;
  // A variable-rate stream is resampled to `rate`, so its own frame count is not what comes out.
  const statedFrames = rate.variable ? undefined : video.frameCount;
  const estimatedFrames =
    statedFrames ?? (duration === undefined ? undefined : Math.round(duration * rate.value));
  if (estimatedFrames === 0 || (duration !== undefined && duration <= 0)) {
    throw new BgRemoverError('corrupt_input', `${label} is a zero-length video (no frames)`, {
      field,
    });
  }
  return {
    path,
    width,
    height,
    fpsRational: rate.rational,
    fps: rate.value,
    duration,
    estimatedFrames,
    hasAudio: probed.streams.some((stream) => stream.codecType === 'audio'),
    audioCodec: probed.streams.find((stream) => stream.codecType === 'audio')?.codecName,
    codec: video.codecName,
    container,
    containerDuration: probed.duration,
    interlaced: INTERLACED_FIELD_ORDERS.has(video.fieldOrder ?? ''),
    ...alphaOf(video),
    variableFrameRate: rate.variable,
  };
}

/** ffprobe's field orders of interlaced streams (top or bottom field first, coded either way). */
const INTERLACED_FIELD_ORDERS = new Set(['tt', 'bb', 'tb', 'bt']);

/** Pixel formats with an alpha channel, as ffmpeg names them. */
const ALPHA_PIXEL_FORMAT = /^(yuva|rgba|bgra|argb|abgr|gbrap|ya\d|rgba64|bgra64|ayuv)/;

/**
 * Whether a stream's frames carry alpha, and the decoder that keeps it. VP8/VP9 store alpha in a
 * side channel (`alpha_mode=1`) that only libvpx's decoders read: ffmpeg's own VP9 decoder drops
 * it. Other codecs (ProRes 4444, QuickTime Animation, PNG, FFV1, GIF) say so in the pixel format.
 */
function alphaOf(stream: ProbedStream): { hasAlpha: boolean; decoderOptions: string[] } {
  if (stream.tags.alpha_mode === '1') {
    if (stream.codecName === 'vp9')
      return { hasAlpha: true, decoderOptions: ['-c:v', 'libvpx-vp9'] };
    if (stream.codecName === 'vp8') return { hasAlpha: true, decoderOptions: ['-c:v', 'libvpx'] };
  }
  return { hasAlpha: ALPHA_PIXEL_FORMAT.test(stream.pixFmt ?? ''), decoderOptions: [] };
}

function acceptedContainerOf(formatName: string | undefined): string | undefined {
  const names = (formatName ?? '').split(',');
  return acceptedVideoContainers.find((accepted) => names.includes(accepted));
}

/** Rates above this are not believable for a video stream. */
const MAX_BELIEVABLE_FPS = 240;

/** The constant rates that cameras, phones and editors use. */
const STANDARD_RATES = [
  '15/1',
  '24000/1001',
  '24/1',
  '25/1',
  '30000/1001',
  '30/1',
  '48/1',
  '50/1',
  '60000/1001',
  '60/1',
].map((rational) => ({ rational, value: rationalValue(rational) ?? 0 }));

/**
 * The constant rate to work at. A constant-rate stream keeps its own rate (its average, else its
 * base rate). A variable-rate one (a phone clip: the average differs from the base rate, e.g.
 * 2500/137) gets a standard rate instead: its base rate when that is a whole (or NTSC) rate of
 * at most 60 and at least the average, else the lowest standard rate at or above the average (60 at most), so that no
 * frame is dropped and players see an ordinary rate.
 */
function constantFrameRateOf(
  stream: ProbedStream,
): { rational: string; value: number; variable: boolean } | undefined {
  const average = believableRate(stream.avgFrameRate);
  const base = believableRate(stream.rFrameRate);
  const chosen = average ?? base;
  if (!chosen) return undefined;
  const variable =
    average !== undefined && base !== undefined && Math.abs(average.value / base.value - 1) > 0.01;
  if (!variable) return { ...chosen, variable };
  if (base && isWholeRate(base.value) && base.value <= 60 && base.value >= chosen.value * 0.99) {
    return { ...base, variable };
  }
  const above = STANDARD_RATES.find((rate) => rate.value >= chosen.value * 0.99);
  const fallback = STANDARD_RATES[STANDARD_RATES.length - 1] ?? chosen;
  return { ...(above ?? fallback), variable };
}

/** A whole number of frames per second, or one of NTSC's x1000/1001 rates (29.97, 23.976...). */
function isWholeRate(value: number): boolean {
  const ntsc = (value * 1001) / 1000;
  return Math.abs(value - Math.round(value)) < 0.001 || Math.abs(ntsc - Math.round(ntsc)) < 0.001;
}

function believableRate(text: string | undefined): { rational: string; value: number } | undefined {
  const value = rationalValue(text);
  if (value === undefined || value <= 0 || value > MAX_BELIEVABLE_FPS) return undefined;
  const match = /^(\d+)(?:\/(\d+))?$/.exec(text ?? '');
  return { rational: `${match?.[1]}/${match?.[2] ?? '1'}`, value };
}

function rationalValue(text: string | undefined): number | undefined {
  const match = /^(\d+)(?:\/(\d+))?$/.exec(text ?? '');
  if (!match) return undefined;
  const denominator = Number(match[2] ?? '1');
  return denominator > 0 ? Number(match[1]) / denominator : undefined;
}

async function unreadableError(path: string, role: InputRole, cause: Error): Promise<Error> {
  const head = Buffer.alloc(64 * 1024);
  const handle = await open(path, 'r');
  let bytes: Buffer;
  try {
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    bytes = head.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
  const sniffed = await sniffFileType(bytes);
  const detail = cause.message.split('\n').find((line) => line.trim().length > 0) ?? '';
  if (sniffed.kind === 'video' || sniffed.kind === 'audio') {
    return new BgRemoverError(
      'corrupt_input',
      `${role.label} looks like ${sniffed.mime} but is corrupt or truncated and cannot be read`,
      { field: role.field, cause },
    );
  }
  const what =
    sniffed.kind === 'unknown' ? 'text or data without a known signature' : `${sniffed.mime}`;
  return new BgRemoverError(
    'unsupported_input',
    `${role.label} is not a video (it looks like ${what}): send MP4, MOV, WebM, MKV, AVI or an animated GIF`,
    { field: role.field, cause: new Error(detail) },
  );
}
