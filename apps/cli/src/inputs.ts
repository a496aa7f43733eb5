import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';

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
const RESULT_SUFFIXES = ['_processed.png', '_mask.png'];

/**
 * Expands the command line's files and folders into the files to process, in a stable order.
 * Files named explicitly are always included (so a wrong one gets a clear error); folders
 * contribute their image files, recursively, skipping earlier results. Missing paths are
 * returned separately so they can be reported without stopping the batch.
 */
export async function collectInputs(
  paths: readonly string[],
): Promise<{ files: string[]; missing: string[] }> {
  const files: string[] = [];
  const missing: string[] = [];
  for (const path of paths) {
    const info = await stat(path).catch(() => undefined);
    if (!info) missing.push(path);
    else if (info.isDirectory()) files.push(...(await imagesUnder(path)));
    else files.push(resolve(path));
  }
  return { files: [...new Set(files)], missing };
}

async function imagesUnder(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { withFileTypes: true, recursive: true });
  return entries
    .filter((entry) => entry.isFile() && isImageName(entry.name) && !isResultName(entry.name))
    .map((entry) => resolve(join(entry.parentPath, entry.name)))
    .sort();
}

function isImageName(name: string): boolean {
  return IMAGE_EXTENSIONS.has(extname(name).toLowerCase());
}

function isResultName(name: string): boolean {
  return RESULT_SUFFIXES.some((suffix) => name.endsWith(suffix));
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
