import type { Readable } from 'node:stream';

/** What storage knows about an object. */
export interface StoredObjectInfo {
  size: number;
  contentType: string;
  lastModified: Date;
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
  put(key: string, body: Buffer | Readable, contentType: string): Promise<void>;
  /** Stores a local file under `key`, streaming it. */
  putFile(key: string, path: string, contentType: string): Promise<void>;
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
 * Checks a storage key: slash-separated segments of letters, digits, dot, dash and underscore,
 * none starting with a dot (so no `..`, no absolute paths). Returns the key or throws.
 */
export function assertSafeKey(key: string): string {
  if (!SAFE_KEY.test(key)) throw new Error(`Unsafe storage key ${JSON.stringify(key)}`);
  return key;
}

/** Turns any file name into one safe inside a storage key (keeps the extension). */
export function safeFileName(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? '';
  const cleaned = base.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._-]+/, '');
  return (cleaned || 'file').slice(-120);
}
