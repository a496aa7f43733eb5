import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { type CoreConfig, type Logger as CoreLogger, removeImageBackground } from '@bgremover/core';
import type { ConversionJobData } from '@bgremover/jobs';
import type { JobProgress } from './reply/adapter.js';

/** What running core produced for one job, before it is stored. */
export interface MediaOutput {
  /** The result bytes (images) or a local file (videos, which can be large). */
  body: { kind: 'buffer'; data: Buffer } | { kind: 'file'; path: string; bytes: number };
  filename: string;
  contentType: string;
  model: string;
  warnings: string[];
}

export interface MediaRunContext {
  config: CoreConfig;
  logger: CoreLogger;
  inputPath: string;
  backgroundPath: string | undefined;
  /** Folder for output files; removed after the job. */
  scratchDir: string;
  onProgress: (progress: JobProgress) => void;
  signal: AbortSignal;
}

/** `photo.jpg` -> `photo_processed.png`: the seed's naming for results. */
export function resultFileName(inputName: string, extension: string): string {
  const stem = basename(inputName, extname(inputName)) || 'file';
  return `${stem}_processed${extension}`;
}

/** Runs core's image pipeline on the job's input. */
export async function runImage(
  data: ConversionJobData,
  context: MediaRunContext,
): Promise<MediaOutput> {
  const background = context.backgroundPath ? await readFile(context.backgroundPath) : undefined;
  const result = await removeImageBackground(context.inputPath, data.params, {
    config: context.config,
    logger: context.logger,
    ...(background ? { background } : {}),
  });
  return {
    body: { kind: 'buffer', data: result.data },
    filename: resultFileName(data.input.filename, '.png'),
    contentType: result.contentType,
    model: result.model,
    warnings: result.warnings,
  };
}
