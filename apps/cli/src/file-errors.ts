import type { Stats } from 'node:fs';
import { resolve } from 'node:path';
import { isBgRemoverError } from '@bgremover/core';

/** Plain-words reasons for the file-system errors a batch meets, by `code`. */
const REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'permission denied (operation not permitted)',
  ELOOP: 'symbolic link loop (too many levels of symbolic links)',
  ENOENT: 'no such file or folder',
  ENOTDIR: 'no such file or folder (a part of the path is not a folder)',
  EISDIR: 'is a folder, not a file',
  ENAMETOOLONG: 'file name too long',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in the system',
  EIO: 'input/output error while reading or writing',
  ENXIO: 'no such device (a socket or a device without a reader)',
  ETXTBSY: 'file busy',
  EBUSY: 'file busy',
};

/** The errno code of a Node.js file-system error, if `error` is one. */
export function errnoCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) ? code : undefined;
}

/**
 * One line (or, for an encoder's diagnostics, a few) saying why a file failed, for a person:
 * file-system errors by their code ("permission denied", "symbolic link loop"), refusals from
 * core as they are worded, anything else by its message. Never a stack. A file-system error about
 * another path than `subject` (the file the line is about) names that path.
 */
export function describeError(error: unknown, subject?: string): string {
  if (isBgRemoverError(error)) return error.message;
  const code = errnoCode(error);
  const reason = code === undefined ? undefined : REASONS[code];
  if (reason !== undefined) {
    const path = (error as { path?: unknown }).path;
    const other =
      typeof path === 'string' && (subject === undefined || resolve(path) !== resolve(subject));
    return other ? `${reason}: ${path}` : reason;
  }
  if (error instanceof Error) {
    const message = error.message.trim();
    if (message.length > 0) return code === undefined ? message : `${message} (${code})`;
    return error.name;
  }
  return String(error);
}

/** JavaScript's own error classes mean a fault in our code (or a dependency's), not the file's. */
export function isInternalError(error: unknown): boolean {
  return (
    error instanceof TypeError ||
    error instanceof ReferenceError ||
    error instanceof RangeError ||
    error instanceof SyntaxError ||
    (error instanceof Error && error.name === 'AssertionError')
  );
}

/** What kind of thing a path that is neither a file nor a folder is, in words. */
export function specialFileKind(info: Stats): string {
  if (info.isFIFO()) return 'FIFO';
  if (info.isSocket()) return 'socket';
  if (info.isCharacterDevice()) return 'character device';
  if (info.isBlockDevice()) return 'block device';
  if (info.isSymbolicLink()) return 'symbolic link';
  if (info.isDirectory()) return 'folder';
  return 'special file';
}

/** The refusal for a path that is not a regular file. */
export function notRegularFile(info: Stats): string {
  return info.isDirectory()
    ? 'is a folder, not a file'
    : `not a regular file (${specialFileKind(info)})`;
}

/**
 * A file name as it can be printed on one line of a terminal: control characters (a newline, an
 * escape sequence, DEL and the C1 controls) are written as `\n`, `\t`, `\xNN`, and a backslash as
 * `\\` only where escapes were needed. Ordinary names, spaces and non-ASCII letters included, are
 * printed as they are.
 */
export function displayName(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
  const controls = /[\u0000-\u001f\u007f-\u009f]/;
  if (!controls.test(text)) return text;
  let shown = '';
  for (const char of text) {
    const point = char.codePointAt(0) ?? 0;
    if (char === '\\') shown += '\\\\';
    else if (char === '\n') shown += '\\n';
    else if (char === '\r') shown += '\\r';
    else if (char === '\t') shown += '\\t';
    else if (point < 0x20 || (point >= 0x7f && point <= 0x9f))
      shown += `\\x${point.toString(16).padStart(2, '0')}`;
    else shown += char;
  }
  return shown;
}

/**
 * Like `displayName` for a message that may span lines (an encoder's diagnostics): each line is
 * made safe, and lines after the first are indented under it.
 */
export function displayMessage(text: string): string {
  return text
    .trimEnd()
    .split('\n')
    .map((line) => displayName(line.replace(/\r$/, '')))
    .join('\n    ');
}
