import { BgRemoverError } from '../errors.js';
import { type InputRole, mainInput } from '../image/accepted-input.js';
import { FfmpegKilledError, ffmpegPipe, ffmpegThreads, startFfmpeg } from './ffmpeg.js';

export interface FrameReaderOptions {
  path: string;
  /** Size of the frames the filters produce. */
  width: number;
  height: number;
  /** ffmpeg filters from decoded source frames to the working frames (fps, scale, crop). */
  filters: readonly string[];
  /** Stop after this many frames. */
  frameLimit?: number | undefined;
  /**
   * Refuse the video (`input_too_long`, naming MAX_VIDEO_FRAMES) when it yields more than this
   * many frames: the last line of defence against a file whose stated length lies (two frames
   * with a long gap between their timestamps, which the fps filter fills with copies).
   */
  maxFrames?: number | undefined;
  /** Decode RGBA (the source's alpha kept) instead of RGB. */
  alpha?: boolean;
  /** ffmpeg options before the source's `-i` (e.g. libvpx's decoder, which keeps VP9 alpha). */
  decoderOptions?: readonly string[];
  role?: InputRole;
}

/** Packed RGB (or, when asked, RGBA) frames of one video, decoded by an ffmpeg process of its own. */
export interface FrameReader {
  /**
   * The next frame (width x height x 3 bytes, or 4 with alpha), or undefined at the end. The buffer is the
   * caller's until it hands it back with `release`.
   */
  next(): Promise<Buffer | undefined>;
  /**
   * Hands back a frame the caller is done with, for a later frame to be decoded into: no new
   * multi-megabyte buffer (and its page faults and garbage collection) per frame. Optional.
   */
  release(frame: Buffer): void;
  /** Frames returned so far. */
  readonly framesRead: number;
  /** Stops the decoder (safe to call at any time, more than once). */
  close(): void;
}

/**
 * Starts decoding a video to raw rgb24 frames through a pipe. Only one frame is assembled at a
 * time and the pipe applies back-pressure, so the decoder waits while the pipeline is busy and
 * memory does not grow with the video's length. A decode that fails, or that yields no frame at
 * all, rejects `next()` with a `corrupt_input` error naming the file.
 */
export function openFrameReader(options: FrameReaderOptions): FrameReader {
  const role = options.role ?? mainInput;
  const channels = options.alpha ? 4 : 3;
  const frameBytes = options.width * options.height * channels;
  const { frameLimit, maxFrames } = options;
  // One frame past the cap is decoded, to tell "exactly at the cap" from "over it".
  const decodeLimit =
    maxFrames === undefined || (frameLimit !== undefined && frameLimit <= maxFrames)
      ? frameLimit
      : maxFrames + 1;
  const pipe = ffmpegPipe(Math.min(frameBytes, 4 << 20));
  const job = startFfmpeg({
    inputs: [
      {
        source: options.path,
        options: [...(options.decoderOptions ?? []), '-threads', String(ffmpegThreads())],
      },
    ],
    outputOptions: [
      '-map',
      '0:v:0',
      '-vf',
      options.filters.join(','),
      '-an',
      '-sn',
      '-dn',
      ...(decodeLimit === undefined ? [] : ['-frames:v', String(decodeLimit)]),
      '-f',
      'rawvideo',
      '-pix_fmt',
      options.alpha ? 'rgba' : 'rgb24',
    ],
    output: pipe,
  });
  // Chunks are taken as the pipe emits them ('data' in flowing mode) and copied once into the
  // frame being assembled. (Async iteration would read() the pipe, which joins everything
  // buffered into one new buffer first: an extra copy and allocation of megabytes per frame.)
  const ready: Buffer[] = [];
  const spare: Buffer[] = [];
  let assembling: Buffer | undefined;
  let filled = 0;
  let ended = false;
  let waiter: (() => void) | undefined;
  const wake = () => {
    const resolve = waiter;
    waiter = undefined;
    resolve?.();
  };
  pipe.on('data', (chunk: Buffer) => {
    let offset = 0;
    while (offset < chunk.length) {
      assembling ??= spare.pop() ?? Buffer.allocUnsafe(frameBytes);
      const used = chunk.copy(assembling, filled, offset, offset + frameBytes - filled);
      filled += used;
      offset += used;
      if (filled === frameBytes) {
        ready.push(assembling);
        assembling = undefined;
        filled = 0;
      }
    }
    // One finished frame waiting is enough: the decoder waits until it is taken.
    if (ready.length > 0) pipe.pause();
    wake();
  });
  const stop = () => {
    ended = true; // a cut-off last frame is dropped; finish() reports why the decoder stopped
    wake();
  };
  pipe.once('end', stop);
  pipe.once('error', stop);
  let framesRead = 0;
  let closed = false;

  async function next(): Promise<Buffer | undefined> {
    if (closed) return undefined;
    if (options.frameLimit !== undefined && framesRead >= options.frameLimit) {
      close();
      return undefined;
    }
    while (ready.length === 0 && !ended) {
      await new Promise<void>((resolve) => {
        waiter = resolve;
        pipe.resume();
      });
    }
    const frame = ready.shift();
    if (!frame) return finish();
    if (maxFrames !== undefined && framesRead >= maxFrames) {
      close();
      throw new BgRemoverError(
        'input_too_long',
        `${role.label} yields more than ${maxFrames} frames, the limit (MAX_VIDEO_FRAMES): send frame_limit=${maxFrames} or less, or a lower framerate`,
        { field: role.field },
      );
    }
    if (ready.length === 0) pipe.resume();
    framesRead++;
    return frame;
  }

  /** The decoder's output ended: a clean end, or the reason it failed. */
  async function finish(): Promise<undefined> {
    try {
      await job.done;
    } catch (error) {
      if (error instanceof FfmpegKilledError || closed) return undefined;
      throw new BgRemoverError(
        'corrupt_input',
        `${role.label} could not be decoded after ${framesRead} frame(s): ${describeFailure(error)}`,
        { field: role.field, cause: error },
      );
    }
    if (framesRead === 0) {
      throw new BgRemoverError(
        'corrupt_input',
        `${role.label} contains no decodable video frames (zero-length or corrupt)`,
        { field: role.field },
      );
    }
    closed = true;
    return undefined;
  }

  function close(): void {
    if (closed) return;
    closed = true;
    job.kill();
  }

  function release(frame: Buffer): void {
    // A few are enough: at most three frames are in use at once in the pipeline.
    if (frame.length === frameBytes && spare.length < 4 && !spare.includes(frame)) {
      spare.push(frame);
    }
  }

  return {
    next,
    release,
    get framesRead() {
      return framesRead;
    },
    close,
  };
}

function describeFailure(error: unknown): string {
  const tail = (error as { stderrTail?: unknown }).stderrTail;
  const text = typeof tail === 'string' && tail.length > 0 ? tail : (error as Error).message;
  return text
    .split('\n')
    .filter((line) => line.trim().length > 0)
    .slice(-2)
    .join('; ');
}
