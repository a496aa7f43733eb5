import { mkdir, writeFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import {
  type CoreConfig,
  type ImageParams,
  type ImageParamsInput,
  isBgRemoverError,
  isVideoFile,
  type Logger,
  parseImageParams,
  parseVideoParams,
  removeImageBackground,
  removeVideoBackground,
  type VideoParams,
  type VideoParamsInput,
} from '@bgremover/core';
import { MultiBar, type SingleBar } from 'cli-progress';
import { outputPathFor, videoOutputPathFor } from './inputs.js';

/** The outcome of one file. */
export type FileOutcome =
  | {
      input: string;
      ok: true;
      output: string;
      model: string;
      ms: number;
      warnings: string[];
      /** Frames written, for videos. */
      frames?: number;
    }
  | { input: string; ok: false; error: string };

export interface BatchOptions {
  config: CoreConfig;
  params: ImageParamsInput;
  videoParams: VideoParamsInput;
  outputDir: string | undefined;
  backgroundImage: string | undefined;
  backgroundVideo: string | undefined;
  /** Show progress bars: files for a batch, frames for each video. */
  progress: boolean;
  logger: Logger;
  /** Called after each file, for printing. */
  onFile?: (outcome: FileOutcome) => void;
}

interface ParsedParams {
  image: ImageParams;
  video: VideoParams;
}

/**
 * Processes files one after another in this process (the model already uses every core) and
 * writes each result: images as PNG, videos (by their bytes, see `isVideoFile`) in the chosen
 * video format. A file that fails is reported and the batch goes on. Parameters are validated
 * once, before any file is touched.
 */
export async function runBatch(
  files: readonly string[],
  options: BatchOptions,
): Promise<FileOutcome[]> {
  const params: ParsedParams = {
    image: parseImageParams(options.params),
    video: parseVideoParams(options.videoParams),
  };
  if (options.outputDir) await mkdir(options.outputDir, { recursive: true });
  const bars = options.progress
    ? new MultiBar({
        format: 'removebg [{bar}] {value}/{total} {unit} {file}',
        hideCursor: true,
        noTTYOutput: true,
        notTTYSchedule: 1000,
        clearOnComplete: false,
      })
    : undefined;
  const filesBar =
    bars && files.length > 1
      ? bars.create(files.length, 0, { file: '', unit: 'files' })
      : undefined;
  const outcomes: FileOutcome[] = [];
  const usedOutputs = new Set<string>();
  for (const input of files) {
    filesBar?.update({ file: input });
    const outcome = await processOne(input, params, options, usedOutputs, bars);
    outcomes.push(outcome);
    filesBar?.increment();
    options.onFile?.(outcome);
  }
  bars?.stop();
  return outcomes;
}

async function processOne(
  input: string,
  params: ParsedParams,
  options: BatchOptions,
  usedOutputs: Set<string>,
  bars: MultiBar | undefined,
): Promise<FileOutcome> {
  const started = performance.now();
  try {
    if (await isVideoFile(input))
      return await processVideo(input, params.video, options, usedOutputs, bars);
    const result = await removeImageBackground(input, params.image, {
      config: options.config,
      logger: options.logger,
      ...(options.backgroundImage ? { background: options.backgroundImage } : {}),
    });
    const output = uniquePath(
      outputPathFor(input, options.outputDir, params.image.only_mask),
      usedOutputs,
    );
    await writeFile(output, result.data);
    return {
      input,
      ok: true,
      output,
      model: result.model,
      ms: performance.now() - started,
      warnings: result.warnings,
    };
  } catch (error) {
    if (!isBgRemoverError(error)) throw error;
    return { input, ok: false, error: error.message };
  }
}

/** One video, with a frame bar while it runs. */
async function processVideo(
  input: string,
  params: VideoParams,
  options: BatchOptions,
  usedOutputs: Set<string>,
  bars: MultiBar | undefined,
): Promise<FileOutcome> {
  const started = performance.now();
  const output = uniquePath(
    videoOutputPathFor(input, options.outputDir, params.video_format),
    usedOutputs,
  );
  let framesBar: SingleBar | undefined;
  try {
    const result = await removeVideoBackground(input, params, {
      config: options.config,
      outputPath: output,
      ...(options.backgroundImage ? { backgroundImage: options.backgroundImage } : {}),
      ...(options.backgroundVideo ? { backgroundVideo: options.backgroundVideo } : {}),
      onProgress: ({ framesDone, framesTotal }) => {
        if (!bars) return;
        const total = Math.max(framesTotal ?? framesDone, framesDone);
        framesBar ??= bars.create(total, 0, { file: input, unit: 'frames' });
        framesBar.setTotal(total);
        framesBar.update(framesDone);
      },
    });
    if (framesBar && bars) {
      framesBar.setTotal(result.frames);
      framesBar.update(result.frames);
      bars.update(); // draw the finished bar before it is removed
    }
    return {
      input,
      ok: true,
      output: result.path,
      model: result.model,
      ms: performance.now() - started,
      warnings: result.warnings,
      frames: result.frames,
    };
  } finally {
    if (framesBar) {
      framesBar.stop();
      bars?.remove(framesBar);
    }
  }
}

function uniquePath(path: string, used: Set<string>): string {
  let candidate = path;
  for (let n = 2; used.has(candidate); n++) {
    candidate = path.replace(/(\.\w+)$/, `_${n}$1`);
  }
  used.add(candidate);
  return candidate;
}
