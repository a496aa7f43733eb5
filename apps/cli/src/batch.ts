import { mkdir, writeFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import {
  type CoreConfig,
  type ImageParamsInput,
  isBgRemoverError,
  type Logger,
  parseImageParams,
  removeImageBackground,
} from '@bgremover/core';
import { SingleBar } from 'cli-progress';
import { outputPathFor } from './inputs.js';

/** The outcome of one file. */
export type FileOutcome =
  | { input: string; ok: true; output: string; model: string; ms: number; warnings: string[] }
  | { input: string; ok: false; error: string };

export interface BatchOptions {
  config: CoreConfig;
  params: ImageParamsInput;
  outputDir: string | undefined;
  backgroundImage: string | undefined;
  /** Show a progress bar (batches on a terminal). */
  progress: boolean;
  logger: Logger;
  /** Called after each file, for printing. */
  onFile?: (outcome: FileOutcome) => void;
}

/**
 * Processes files one after another in this process (the model already uses every core) and
 * writes each result. A file that fails is reported and the batch goes on. Parameters are
 * validated once, before any file is touched.
 */
export async function runBatch(
  files: readonly string[],
  options: BatchOptions,
): Promise<FileOutcome[]> {
  const params = parseImageParams(options.params);
  if (options.outputDir) await mkdir(options.outputDir, { recursive: true });
  const bar = options.progress
    ? new SingleBar({ format: 'removebg [{bar}] {value}/{total} {file}', hideCursor: true })
    : undefined;
  bar?.start(files.length, 0, { file: '' });
  const outcomes: FileOutcome[] = [];
  const usedOutputs = new Set<string>();
  for (const input of files) {
    bar?.update({ file: input });
    const outcome = await processOne(input, params, options, usedOutputs);
    outcomes.push(outcome);
    bar?.increment();
    options.onFile?.(outcome);
  }
  bar?.stop();
  return outcomes;
}

async function processOne(
  input: string,
  params: ReturnType<typeof parseImageParams>,
  options: BatchOptions,
  usedOutputs: Set<string>,
): Promise<FileOutcome> {
  const started = performance.now();
  try {
    const result = await removeImageBackground(input, params, {
      config: options.config,
      logger: options.logger,
      ...(options.backgroundImage ? { background: options.backgroundImage } : {}),
    });
    const output = uniquePath(
      outputPathFor(input, options.outputDir, params.only_mask),
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

function uniquePath(path: string, used: Set<string>): string {
  let candidate = path;
  for (let n = 2; used.has(candidate); n++) candidate = path.replace(/\.png$/, `_${n}.png`);
  used.add(candidate);
  return candidate;
}
