import { once } from 'node:events';
import { type FfmpegInput, FfmpegKilledError, ffmpegPipe, startFfmpeg } from './ffmpeg.js';

/** The raw frames the pipeline hands the encoder. */
export interface RawFrameFormat {
  /** ffmpeg's name for the layout: `rgba`, `rgb24` or `gray`. */
  pixFmt: 'rgba' | 'rgb24' | 'gray';
  width: number;
  height: number;
  fpsRational: string;
}

/** Bytes per pixel of each raw layout. */
export const bytesPerPixel: Record<RawFrameFormat['pixFmt'], number> = {
  rgba: 4,
  rgb24: 3,
  gray: 1,
};

export interface EncoderSpec {
  frames: RawFrameFormat;
  /** Further inputs after the frames (input 0): the source for its audio, say. */
  extraInputs: readonly FfmpegInput[];
  complexFilter?: string;
  outputOptions: readonly string[];
  outputPath: string;
}

/** Feeds frames to an encoder process. */
export interface FrameWriter {
  /** Writes one frame; resolves when the pipe can take more (back-pressure). */
  write(frame: Uint8Array): Promise<void>;
  /** Ends the input and waits for the encoder to finish the file. */
  finish(): Promise<void>;
  /** Stops the encoder at once (the file is left incomplete). */
  abort(): void;
}

/**
 * Starts an encoder process that reads raw frames from its stdin (input 0) and writes
 * `outputPath`. `write` waits whenever the pipe is full, so at most about one frame is buffered
 * on our side; an encoder that dies makes the next `write` or `finish` reject with its message.
 */
export function openFrameWriter(spec: EncoderSpec): FrameWriter {
  const { frames } = spec;
  const frameBytes = frames.width * frames.height * bytesPerPixel[frames.pixFmt];
  const pipe = ffmpegPipe(frameBytes);
  const job = startFfmpeg({
    inputs: [
      {
        source: pipe,
        options: [
          '-f',
          'rawvideo',
          '-pix_fmt',
          frames.pixFmt,
          '-video_size',
          `${frames.width}x${frames.height}`,
          '-framerate',
          frames.fpsRational,
        ],
      },
      ...spec.extraInputs,
    ],
    ...(spec.complexFilter === undefined ? {} : { complexFilter: spec.complexFilter }),
    outputOptions: ['-y', ...spec.outputOptions],
    output: spec.outputPath,
  });
  let failure: Error | undefined;
  const ended = job.done.then(
    () => {
      failure ??= new Error('The encoder stopped before all frames were written');
    },
    (error: Error) => {
      failure ??= error instanceof FfmpegKilledError ? error : encoderError(error);
    },
  );

  return {
    async write(frame) {
      if (failure) throw failure;
      if (frame.length !== frameBytes) {
        throw new Error(`Frame of ${frame.length} bytes, the encoder expects ${frameBytes}`);
      }
      if (!pipe.write(frame)) {
        await Promise.race([once(pipe, 'drain'), ended]);
        if (failure) throw failure;
      }
    },
    async finish() {
      if (failure) throw failure;
      pipe.end();
      try {
        await job.done;
      } catch (error) {
        throw encoderError(error as Error);
      }
    },
    abort() {
      job.kill();
    },
  };
}

function encoderError(error: Error): Error {
  const tail = (error as { stderrTail?: unknown }).stderrTail;
  const details = typeof tail === 'string' && tail.length > 0 ? tail : error.message;
  return new Error(`The video encoder failed: ${details}`, { cause: error });
}
