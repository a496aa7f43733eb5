import type { Dirent, Stats } from 'node:fs';
import { lstat, readdir, readlink, stat } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { containerOf, type VideoFormat, videoFileExtensions } from '@bgremover/core';
import { describeError, displayName, errnoCode, notRegularFile } from './file-errors.js';

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

/** A path from the command line, or a folder under one, that cannot be processed, and why. */
export interface RejectedInput {
  input: string;
  reason: string;
}

/**
 * Expands the command line's files and folders into the files to process, in a stable order.
 * Files named explicitly are always included (so a wrong one gets a clear error) as long as they
 * are regular files; folders contribute their image and video files, recursively, skipping
 * earlier results. Paths are only `stat`ed here, never opened: a FIFO, a socket or a device is
 * refused (opening a FIFO would block), and a missing path, a symbolic link loop, a broken link or
 * an unreadable folder is returned in `rejected` with its reason, so it can be reported without
 * stopping the batch.
 */
export async function collectInputs(
  paths: readonly string[],
): Promise<{ files: string[]; rejected: RejectedInput[] }> {
  const files: string[] = [];
  const rejected: RejectedInput[] = [];
  for (const path of paths) {
    let info: Stats;
    try {
      info = await stat(path);
    } catch (error) {
      rejected.push({ input: path, reason: await statFailure(path, error) });
      continue;
    }
    if (info.isDirectory()) {
      const found: string[] = [];
      await mediaUnder(path, found, rejected);
      files.push(...found.sort());
    } else if (info.isFile()) files.push(resolve(path));
    else rejected.push({ input: path, reason: notRegularFile(info) });
  }
  return { files: [...new Set(files)], rejected };
}

/**
 * Why `stat` failed, in words; a dangling symbolic link is told apart from a missing path (`stat`
 * says ENOENT for both).
 */
async function statFailure(path: string, error: unknown): Promise<string> {
  if (errnoCode(error) === 'ENOENT') {
    const link = await lstat(path).catch(() => undefined);
    if (link?.isSymbolicLink()) {
      const target = await readlink(path).catch(() => undefined);
      return `broken symbolic link (its target${target === undefined ? '' : ` ${displayName(target)}`} does not exist)`;
    }
  }
  return describeError(error, path);
}

/**
 * Adds the media files under `folder` to `found`. A subfolder that cannot be read is reported in
 * `rejected` and the walk goes on with the rest. Symbolic links, FIFOs, sockets and devices in
 * folders are skipped (only what is named on the command line is followed).
 */
async function mediaUnder(folder: string, found: string[], rejected: RejectedInput[]) {
  let entries: Dirent[];
  try {
    entries = await readdir(folder, { withFileTypes: true });
  } catch (error) {
    rejected.push({
      input: folder,
      reason: `cannot read the folder: ${describeError(error, folder)}`,
    });
    return;
  }
  for (const entry of entries) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) await mediaUnder(path, found, rejected);
    else if (entry.isFile() && isMediaName(entry.name) && !isResultName(entry.name)) {
      found.push(resolve(path));
    }
  }
}

function isMediaName(name: string): boolean {
  const extension = extname(name).toLowerCase();
  return IMAGE_EXTENSIONS.has(extension) || VIDEO_EXTENSIONS.has(extension);
}

function isResultName(name: string): boolean {
  const stem = basename(name, extname(name));
  return RESULT_STEMS.some((suffix) => stem.endsWith(suffix));
}

/**
 * The longest file name, in UTF-8 bytes, that common file systems take (ext4, XFS, Btrfs, APFS,
 * NTFS in UTF-16 units, tmpfs): NAME_MAX.
 */
export const MAX_NAME_BYTES = 255;

/** Where a result goes, before it is made unique and fitted to `MAX_NAME_BYTES`. */
export interface OutputTarget {
  folder: string;
  /** The input's name without its extension. */
  stem: string;
  /** `_processed`, `_mask` or `_matte`. */
  suffix: string;
  /** With its dot: `.png`. */
  extension: string;
}

/** A result's path; `shortened` when the input's stem had to be cut to fit `MAX_NAME_BYTES`. */
export interface OutputPath {
  path: string;
  shortened: boolean;
}

/** Where the result for `input` goes: `<stem>_processed.png` (or `_mask.png`) in `outputDir` or beside it. */
export function imageOutputTarget(
  input: string,
  outputDir: string | undefined,
  onlyMask: boolean,
): OutputTarget {
  return besideOrIn(input, outputDir, onlyMask ? '_mask' : '_processed', '.png');
}

/** Where a video's result goes: `<stem>_processed.<ext>` (mattekey: `<stem>_matte.mp4`). */
export function videoOutputTarget(
  input: string,
  outputDir: string | undefined,
  format: VideoFormat,
): OutputTarget {
  const suffix = format === 'mattekey' ? '_matte' : '_processed';
  return besideOrIn(input, outputDir, suffix, `.${containerOf(format).extension}`);
}

/** The input's stem with `suffix` and `extension`, in `outputDir` or beside the input. */
function besideOrIn(
  input: string,
  outputDir: string | undefined,
  suffix: string,
  extension: string,
): OutputTarget {
  return {
    folder: outputDir ?? dirname(input),
    stem: basename(input, extname(input)),
    suffix,
    extension,
  };
}

/**
 * The path of a result: `<stem><suffix><extension>`, or `<stem><suffix>_<n><extension>` for the
 * n-th result of the same name in one batch. When the name would be longer than `MAX_NAME_BYTES`
 * the stem is cut (at a character boundary, never inside a UTF-8 sequence) so that the suffix
 * and the extension are kept.
 */
export function outputPath(target: OutputTarget, n = 1): OutputPath {
  const tail = `${target.suffix}${n > 1 ? `_${n}` : ''}${target.extension}`;
  const room = MAX_NAME_BYTES - Buffer.byteLength(tail);
  const stem = fitBytes(target.stem, room);
  return { path: join(target.folder, `${stem}${tail}`), shortened: stem !== target.stem };
}

/** The longest start of `text` that is at most `bytes` long in UTF-8, whole characters only. */
function fitBytes(text: string, bytes: number): string {
  if (Buffer.byteLength(text) <= bytes) return text;
  let kept = '';
  let used = 0;
  for (const char of text) {
    const size = Buffer.byteLength(char);
    if (used + size > bytes) break;
    kept += char;
    used += size;
  }
  return kept;
}
