import { readFile, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import {
  type CoreConfig,
  type Logger as CoreLogger,
  containerOf,
  parseVideoParams,
  removeImageBackground,
  removeVideoBackground,
} from '@bgremover/core';
import { type ConversionJobData, displayFileName, safeFileName } from '@bgremover/jobs';
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

/**
 * `photo.jpg` -> `photo_processed.png`: the protocol's naming for results, keeping the person's own
 * name (any script; control characters dropped, length capped). It is a display and download
 * name, never a path: storage keys use `safeFileName` of it.
 */
export function resultFileName(inputName: string, extension: string): string {
  const name = displayFileName(inputName);
  const stem = basename(name, extname(name)) || 'file';
  return displayFileName(`${stem}_processed${extension}`);
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

/**
 * Runs core's video pipeline on the job's input, writing the result into the scratch folder and
 * reporting frames done as job progress. The background (for video_over_image, gif_with_bg and
 * video_over_video) is whichever file the request sent; core checks that it is the right kind.
 */
export async function runVideo(
  data: ConversionJobData,
  context: MediaRunContext,
): Promise<MediaOutput> {
  const params = parseVideoParams(data.params);
  const container = containerOf(params.video_format);
  const filename = resultFileName(data.input.filename, `.${container.extension}`);
  const outputPath = join(context.scratchDir, safeFileName(filename));
  const background = context.backgroundPath;
  const result = await removeVideoBackground(context.inputPath, params, {
    config: context.config,
    outputPath,
    ...(background && params.video_format === 'video_over_video'
      ? { backgroundVideo: background }
      : {}),
    ...(background && params.video_format !== 'video_over_video'
      ? { backgroundImage: background }
      : {}),
    signal: context.signal,
    onProgress: ({ framesDone, framesTotal }) => {
      const share = framesTotal ? framesDone / framesTotal : 0;
      context.onProgress({
        stage: 'processing',
        percent: Math.min(94, Math.round(5 + 89 * share)),
        framesDone,
        ...(framesTotal ? { framesTotal } : {}),
      });
    },
  });
  return {
    body: { kind: 'file', path: result.path, bytes: (await stat(result.path)).size },
    filename,
    contentType: result.contentType,
    model: result.model,
    warnings: result.warnings,
  };
}
