import { lstat, mkdir, stat, writeFile } from 'node:fs/promises';
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
import { describeError, displayName, isInternalError, notRegularFile } from './file-errors.js';
import {
  imageOutputTarget,
  type OutputPath,
  type OutputTarget,
  outputPath,
  videoOutputTarget,
} from './inputs.js';

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
      /** The result's name was cut to fit the file system's name limit (`MAX_NAME_BYTES`). */
      shortened: boolean;
    }
  | {
      input: string;
      ok: false;
      /** Why, for a person: one line, or an encoder's diagnostics under it. */
      error: string;
      /** Set for failures that are not refusals of the input (a fault of ours, say). */
      stack?: string;
    };

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
 * video format. Whatever makes one file fail (a refusal from core, a file-system error such as
 * EACCES, an encoder that dies, a fault of ours) makes that file's outcome a failure with its
 * reason, and the batch goes on. Each input is `stat`ed before it is opened, so a FIFO or a device
 * is refused instead of blocking the batch. Parameters are validated once, before any file is
 * touched (a bad one throws `ParamError`).
 */
export async function runBatch(
  files: readonly string[],
  options: BatchOptions,
): Promise<FileOutcome[]> {
  const params: ParsedParams = {
    image: parseImageParams(options.params),
    video: parseVideoParams(options.videoParams),
  };
  if (options.outputDir) {
    const folder = options.outputDir;
    await mkdir(folder, { recursive: true }).catch((error: unknown) => {
      throw new Error(`cannot create the output folder ${folder}: ${describeError(error)}`, {
        cause: error,
      });
    });
  }
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
    filesBar?.update({ file: displayName(input) });
    const outcome = await processOne(input, params, options, usedOutputs, bars).catch(
      (error: unknown) => failure(input, error),
    );
    outcomes.push(outcome);
    filesBar?.increment();
    options.onFile?.(outcome);
  }
  bars?.stop();
  return outcomes;
}

/**
 * A video (an animated GIF included) with --only-mask or a background colour: core refuses each
 * such option naming the --video-format that does it for video, instead of ignoring it. A
 * --bg-image is not refused: video_over_image and gif_with_bg use it, and other formats say in
 * their warnings that they ignore it.
 */
function refuseImageOnlyOptions(options: BatchOptions): void {
  const { only_mask, bg_type, bg_color_value } = options.params;
  parseVideoParams({
    ...options.videoParams,
    only_mask,
    bg_color_value,
    ...(bg_type === 'color' ? { bg_type } : {}),
  });
}

async function processOne(
  input: string,
  params: ParsedParams,
  options: BatchOptions,
  usedOutputs: Set<string>,
  bars: MultiBar | undefined,
): Promise<FileOutcome> {
  const started = performance.now();
  // Opening a FIFO blocks until someone writes to it, and a device never ends: stat first.
  const info = await stat(input);
  if (!info.isFile()) return { input, ok: false, error: notRegularFile(info) };
  if (await isVideoFile(input)) {
    refuseImageOnlyOptions(options);
    return await processVideo(input, params.video, options, usedOutputs, bars);
  }
  const output = uniquePath(
    imageOutputTarget(input, options.outputDir, params.image.only_mask),
    usedOutputs,
  );
  await refuseFolder(output.path);
  const result = await removeImageBackground(input, params.image, {
    config: options.config,
    logger: options.logger,
    ...(options.backgroundImage ? { background: options.backgroundImage } : {}),
  });
  try {
    await writeFile(output.path, result.data);
  } catch (error) {
    throw new OutputError(output.path, error);
  }
  return success(input, output.path, result, started, output.shortened);
}

/** A file's success outcome: where its result went, the model, the time since `started`. */
function success(
  input: string,
  output: string,
  result: { model: string; warnings: string[]; frames?: number },
  started: number,
  shortened: boolean,
): FileOutcome {
  return {
    input,
    ok: true,
    output,
    model: result.model,
    ms: performance.now() - started,
    warnings: result.warnings,
    ...(result.frames === undefined ? {} : { frames: result.frames }),
    shortened,
  };
}

/** A file's failure outcome for whatever it threw. */
function failure(input: string, error: unknown): FileOutcome {
  const internal = isInternalError(error);
  const reason = describeError(error, input);
  return {
    input,
    ok: false,
    error: internal ? `internal error: ${reason}` : reason,
    ...(!isBgRemoverError(error) && error instanceof Error && error.stack
      ? { stack: error.stack }
      : {}),
  };
}

/** Writing a result failed; the message names the result, not the input. */
class OutputError extends Error {
  constructor(path: string, cause: unknown) {
    super(`cannot write ${path}: ${describeError(cause, path)}`, { cause });
    this.name = 'OutputError';
  }
}

/**
 * Refuses to write a result over a folder (core removes a failed video's output path
 * recursively, and a write would fail anyway).
 */
async function refuseFolder(path: string): Promise<void> {
  const existing = await lstat(path).catch(() => undefined);
  if (existing?.isDirectory()) {
    throw new OutputError(path, Object.assign(new Error('is a folder'), { code: 'EISDIR' }));
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
    videoOutputTarget(input, options.outputDir, params.video_format),
    usedOutputs,
  );
  await refuseFolder(output.path);
  let framesBar: SingleBar | undefined;
  try {
    const result = await removeVideoBackground(input, params, {
      config: options.config,
      outputPath: output.path,
      ...(options.backgroundImage ? { backgroundImage: options.backgroundImage } : {}),
      ...(options.backgroundVideo ? { backgroundVideo: options.backgroundVideo } : {}),
      onProgress: ({ framesDone, framesTotal }) => {
        if (!bars) return;
        const total = Math.max(framesTotal ?? framesDone, framesDone);
        framesBar ??= bars.create(total, 0, { file: displayName(input), unit: 'frames' });
        framesBar.setTotal(total);
        framesBar.update(framesDone);
      },
    });
    if (framesBar && bars) {
      framesBar.setTotal(result.frames);
      framesBar.update(result.frames);
      bars.update(); // draw the finished bar before it is removed
    }
    return success(input, result.path, result, started, output.shortened);
  } finally {
    if (framesBar) {
      framesBar.stop();
      bars?.remove(framesBar);
    }
  }
}

/** The first of `target`'s names (see `outputPath`) that this batch has not used yet. */
function uniquePath(target: OutputTarget, used: Set<string>): OutputPath {
  let candidate = outputPath(target);
  for (let n = 2; used.has(candidate.path); n++) candidate = outputPath(target, n);
  used.add(candidate.path);
  return candidate;
}
