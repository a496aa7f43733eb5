import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { containerOf, type VideoFormat, videoFileExtensions } from '@bgremover/core';

const IMAGE_EXTENSIONS = new Set([
  '.jpg',
  '.jpeg',
  '.png',
  '.webp',
  '.gif',
  '.tif',
  '.tiff',
  '.avif',
]);
const VIDEO_EXTENSIONS = new Set<string>(videoFileExtensions);
const RESULT_STEMS = ['_processed', '_mask', '_matte'];

/**
 * Expands the command line's files and folders into the files to process, in a stable order.
 * Files named explicitly are always included (so a wrong one gets a clear error); folders
 * contribute their image and video files, recursively, skipping earlier results. Missing paths
 * are returned separately so they can be reported without stopping the batch.
 */
export async function collectInputs(
  paths: readonly string[],
): Promise<{ files: string[]; missing: string[] }> {
  const files: string[] = [];
  const missing: string[] = [];
  for (const path of paths) {
    const info = await stat(path).catch(() => undefined);
    if (!info) missing.push(path);
    else if (info.isDirectory()) files.push(...(await mediaUnder(path)));
    else files.push(resolve(path));
  }
  return { files: [...new Set(files)], missing };
}

async function mediaUnder(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { withFileTypes: true, recursive: true });
  return entries
    .filter((entry) => entry.isFile() && isMediaName(entry.name) && !isResultName(entry.name))
    .map((entry) => resolve(join(entry.parentPath, entry.name)))
    .sort();
}

function isMediaName(name: string): boolean {
  const extension = extname(name).toLowerCase();
  return IMAGE_EXTENSIONS.has(extension) || VIDEO_EXTENSIONS.has(extension);
}

function isResultName(name: string): boolean {
  const stem = basename(name, extname(name));
  return RESULT_STEMS.some((suffix) => stem.endsWith(suffix));
}

/** Where the result for `input` goes: `<stem>_processed.png` (or `_mask.png`) in `outputDir` or beside it. */
export function outputPathFor(
  input: string,
  outputDir: string | undefined,
  onlyMask: boolean,
): string {
  const stem = basename(input, extname(input));
  const suffix = onlyMask ? '_mask.png' : '_processed.png';
  return join(outputDir ?? dirname(input), `${stem}${suffix}`);
}

/** Where a video's result goes: `<stem>_processed.<ext>` (mattekey: `<stem>_matte.mp4`). */
export function videoOutputPathFor(
  input: string,
  outputDir: string | undefined,
  format: VideoFormat,
): string {
  const stem = basename(input, extname(input));
  const suffix = format === 'mattekey' ? '_matte' : '_processed';
  return join(outputDir ?? dirname(input), `${stem}${suffix}.${containerOf(format).extension}`);
}
