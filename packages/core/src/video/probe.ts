import { open, stat } from 'node:fs/promises';
import { BgRemoverError } from '../errors.js';
import { type InputRole, mainInput } from '../image/decode.js';
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
  codec: string | undefined;
  container: string;
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
 * image, an unknown container, a zero-length video, and one over `maxPixels` per frame.
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
  if (size === 0) throw new BgRemoverError('empty_input', `${label} is empty (0 bytes)`, { field });

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
      `${label} is ${width}x${height} per frame, over the limit of ${maxPixels} pixels (MAX_INPUT_PIXELS)`,
      { field },
    );
  }
  const rate = frameRateOf(video);
  if (!rate) {
    throw new BgRemoverError('corrupt_input', `${label} has a video stream with no frame rate`, {
      field,
    });
  }
  const duration = video.duration ?? probed.duration;
  const estimatedFrames =
    video.frameCount ?? (duration === undefined ? undefined : Math.round(duration * rate.value));
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
    codec: video.codecName,
    container,
  };
}

function acceptedContainerOf(formatName: string | undefined): string | undefined {
  const names = (formatName ?? '').split(',');
  return acceptedVideoContainers.find((accepted) => names.includes(accepted));
}

/** The stream's average rate, else its base rate; rates above 240 fps are not believable. */
function frameRateOf(stream: ProbedStream): { rational: string; value: number } | undefined {
  for (const candidate of [stream.avgFrameRate, stream.rFrameRate]) {
    const match = /^(\d+)(?:\/(\d+))?$/.exec(candidate ?? '');
    if (!match) continue;
    const numerator = Number(match[1]);
    const denominator = Number(match[2] ?? '1');
    const value = denominator > 0 ? numerator / denominator : 0;
    if (value > 0 && value <= 240) return { rational: `${numerator}/${denominator}`, value };
  }
  return undefined;
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
