import { UnsafeStorageKeyError } from './storage.js';

/** A storage failure as people and retry logic see it: never its raw message (keys, paths). */
export interface StorageFault {
  /** The system or S3 error code, e.g. `ENOSPC`, `NoSuchBucket 404`. */
  code: string;
  /** What it means, e.g. "storage is full". */
  summary: string;
  /** Whether waiting may cure it (a full disk, a remount, a network error, an S3 5xx). */
  transient: boolean;
}

const full = 'storage is full';
const unavailable = 'storage is unavailable';
const refused = 'storage refused access (permissions)';
const misconfigured = 'storage is misconfigured';

/** What each file-system error means: [summary, whether waiting may cure it]. */
const FS_FAULTS: Record<string, { summary: string; transient: boolean }> = Object.fromEntries(
  (
    [
      ['ENOSPC', full, true],
      ['EDQUOT', `${full} (quota)`, true],
      ['EROFS', 'storage is read-only', true],
      // A read-only or unmounted volume often shows as a folder that cannot be created.
      ['ENOENT', `${unavailable} (its folder is missing or not mounted)`, true],
      ['EIO', `${unavailable} (I/O error)`, true],
      ['EACCES', refused, false],
      ['EPERM', refused, false],
      ['ENOTDIR', `${misconfigured} (a file where a folder should be)`, false],
      ['EEXIST', `${misconfigured} (a file where a folder should be)`, false],
      ['EISDIR', `${misconfigured} (a folder where a file should be)`, false],
      ['ENAMETOOLONG', 'the name is too long for storage', false],
    ] as const
  ).map(([code, summary, transient]) => [code, { summary, transient }]),
);

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);

/**
 * Names a storage failure without its message (which holds keys and paths) and says whether a
 * retry may cure it: a full or read-only disk, a network error or an S3 5xx may pass; an unsafe
 * key, a permission error or an S3 4xx (no such bucket, access denied) will not.
 */
export function describeStorageFault(error: unknown): StorageFault {
  if (error instanceof UnsafeStorageKeyError) {
    return { code: 'unsafe key', summary: 'the name is not a safe storage key', transient: false };
  }
  const fault = error as {
    code?: unknown;
    name?: unknown;
    $metadata?: { httpStatusCode?: number };
  };
  const status = fault.$metadata?.httpStatusCode;
  if (typeof status === 'number') {
    const transient = status >= 500 || status === 408 || status === 429;
    return {
      code: `${typeof fault.name === 'string' ? fault.name : 'S3'} ${status}`,
      summary: transient
        ? 'the storage service is unavailable'
        : 'the storage service refused the request',
      transient,
    };
  }
  const code =
    typeof fault.code === 'string' && /^[A-Z0-9_]+$/.test(fault.code) ? fault.code : undefined;
  if (code && FS_FAULTS[code]) return { code, ...FS_FAULTS[code] };
  if (code && NETWORK_CODES.has(code)) {
    return { code, summary: 'the storage service is unreachable', transient: true };
  }
  return { code: code ?? 'storage error', summary: 'storage failed', transient: true };
}

/**
 * The fault when `error` comes from storage itself (a file-system code storage knows, an S3
 * answer, an unsafe key); undefined for anything else (a client that hung up, a parser error),
 * so a caller can tell "storage is full" from "your upload broke off".
 */
export function storageFaultOf(error: unknown): StorageFault | undefined {
  if (error instanceof UnsafeStorageKeyError) return describeStorageFault(error);
  const fault = error as { code?: unknown; $metadata?: { httpStatusCode?: number } };
  if (typeof fault.$metadata?.httpStatusCode === 'number') return describeStorageFault(error);
  if (typeof fault.code === 'string' && Object.hasOwn(FS_FAULTS, fault.code)) {
    return describeStorageFault(error);
  }
  return undefined;
}
