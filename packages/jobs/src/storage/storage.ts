import type { Readable } from 'node:stream';

/** What storage knows about an object. */
export interface StoredObjectInfo {
  size: number;
  contentType: string;
  lastModified: Date;
  /** The name a download of it should be saved as (the person's own name), when one was given. */
  downloadName?: string;
}

/** Optional details stored with an object. */
export interface PutOptions {
  /** The name to offer when the object is downloaded; any characters (it is never a path). */
  downloadName?: string;
}

/** An inclusive byte range, as in an HTTP Range header. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * Where input uploads and results live, by key (`inputs/<request>/<n>-<name>`,
 * `results/<job>/<name>`). Local disk is the embedded default; S3-compatible storage lets many
 * machines share it. Bytes never go through Redis.
 */
export interface Storage {
  /** Stores bytes or a stream under `key`, replacing any object there. */
  put(
    key: string,
    body: Buffer | Readable,
    contentType: string,
    options?: PutOptions,
  ): Promise<void>;
  /** Stores a local file under `key`, streaming it. */
  putFile(key: string, path: string, contentType: string, options?: PutOptions): Promise<void>;
  /** Opens the object (or a byte range of it) for reading; throws `StorageNotFoundError`. */
  read(key: string, range?: ByteRange): Promise<Readable>;
  /** Copies the object into a local file; throws `StorageNotFoundError`. */
  downloadToFile(key: string, path: string): Promise<void>;
  /** The object's size, type and age, or undefined when there is none. */
  stat(key: string): Promise<StoredObjectInfo | undefined>;
  /** Removes the object; removing a missing object is not an error. */
  delete(key: string): Promise<void>;
  /** Removes every object under `prefix` last modified before `cutoff`; returns how many. */
  deleteOlderThan(prefix: string, cutoff: Date): Promise<number>;
}

/** The object asked for is not in storage (expired, or never stored). */
export class StorageNotFoundError extends Error {
  constructor(readonly key: string) {
    super(`No stored object ${key}`);
    this.name = 'StorageNotFoundError';
  }
}

const SAFE_KEY = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/;

/**
 * A key that storage refuses (it would escape the storage root or hold unsafe characters). It is
 * a programming error, never a passing fault: retrying cannot help. Its message names no key.
 */
export class UnsafeStorageKeyError extends Error {
  constructor(readonly key: string) {
    super('the storage key is not a safe name');
    this.name = 'UnsafeStorageKeyError';
  }
}

/**
 * Checks a storage key: slash-separated segments of letters, digits, dot, dash and underscore,
 * none starting with a dot (so no `..`, no absolute paths). Returns the key or throws
 * `UnsafeStorageKeyError`.
 */
export function assertSafeKey(key: string): string {
  if (!SAFE_KEY.test(key)) throw new UnsafeStorageKeyError(key);
  return key;
}

/** The longest name `safeFileName` returns, well under the 255 bytes file systems allow. */
const SAFE_NAME_MAX = 120;
/** The longest name `displayFileName` returns (characters). */
const DISPLAY_NAME_MAX = 200;

/**
 * Splits `photo.final.JPG` into `photo.final` and `.JPG`. An extension is a dot and 1-10 letters
 * or digits at the end; a leading dot alone (`.png`) is a name, not an extension.
 */
function splitExtension(name: string): { stem: string; extension: string } {
  const match = /^(.+?)(\.[\p{L}\p{N}]{1,10})$/u.exec(name);
  return match
    ? { stem: match[1] ?? '', extension: match[2] ?? '' }
    : { stem: name, extension: '' };
}

/** The last segment of a path with either separator. */
function lastSegment(name: string): string {
  return name.split(/[\\/]/).pop() ?? '';
}

/**
 * Turns any file name (spaces, quotes, brackets, non-ASCII, control characters, 300 characters)
 * into one that is safe inside a storage key, a URL path and a file system: letters, digits,
 * `.`, `_` and `-`, not starting with a dot, at most 120 characters, never empty. The extension
 * is kept when it is ASCII (`фото.png` -> `file.png`, `my photo (1).png` -> `my_photo_1.png`).
 */
export function safeFileName(name: string): string {
  const { stem, extension } = splitExtension(lastSegment(name).normalize('NFC'));
  const safeExtension = /^\.[A-Za-z0-9]{1,10}$/.test(extension) ? extension.toLowerCase() : '';
  const safeStem = stem
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/_{2,}/g, '_')
    .replace(/^[._-]+|[._-]+$/g, '')
    .slice(0, SAFE_NAME_MAX - safeExtension.length)
    .replace(/[._-]+$/g, '');
  return `${safeStem || 'file'}${safeExtension}`;
}

/**
 * The name to show a person and to offer as a download name: their own name (any script),
 * without a path, control characters or invisible format characters, at most 200 characters
 * with the extension kept, never empty.
 */
export function displayFileName(name: string): string {
  const cleaned = lastSegment(name)
    .normalize('NFC')
    .replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  const chars = Array.from(cleaned);
  if (chars.length <= DISPLAY_NAME_MAX) return cleaned || 'file';
  const { stem, extension } = splitExtension(cleaned);
  const kept = Array.from(stem).slice(0, DISPLAY_NAME_MAX - Array.from(extension).length);
  return `${kept.join('').trimEnd()}${extension}`;
}
