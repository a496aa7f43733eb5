import { BgRemoverError } from '../errors.js';
import { type InputRole, mainInput } from '../image/decode.js';
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
  role?: InputRole;
}

/** Packed RGB frames of one video, decoded by an ffmpeg process of its own. */
export interface FrameReader {
  /** The next frame (width x height x 3 bytes, a fresh buffer), or undefined at the end. */
  next(): Promise<Buffer | undefined>;
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
  const frameBytes = options.width * options.height * 3;
  const pipe = ffmpegPipe(Math.min(frameBytes, 4 << 20));
  const job = startFfmpeg({
    inputs: [{ source: options.path, options: ['-threads', String(ffmpegThreads())] }],
    outputOptions: [
      '-map',
      '0:v:0',
      '-vf',
      options.filters.join(','),
      '-an',
      '-sn',
      '-dn',
      ...(options.frameLimit === undefined ? [] : ['-frames:v', String(options.frameLimit)]),
      '-f',
      'rawvideo',
      '-pix_fmt',
      'rgb24',
    ],
    output: pipe,
  });
  const chunks = pipe[Symbol.asyncIterator]();
  let carry: Buffer | undefined;
  let framesRead = 0;
  let closed = false;

  async function next(): Promise<Buffer | undefined> {
    if (closed) return undefined;
    if (options.frameLimit !== undefined && framesRead >= options.frameLimit) {
      close();
      return undefined;
    }
    const frame = Buffer.allocUnsafe(frameBytes);
    let filled = 0;
    if (carry) {
      const used = carry.copy(frame, 0, 0, Math.min(carry.length, frameBytes));
      filled = used;
      carry = used < carry.length ? carry.subarray(used) : undefined;
    }
    while (filled < frameBytes) {
      const step = await chunks.next();
      if (step.done) return finish(); // a cut-off last frame is dropped
      const chunk = step.value as Buffer;
      const used = chunk.copy(frame, filled, 0, Math.min(chunk.length, frameBytes - filled));
      filled += used;
      if (used < chunk.length) carry = chunk.subarray(used);
    }
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

  return {
    next,
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
