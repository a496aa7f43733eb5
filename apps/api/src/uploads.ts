import { createWriteStream } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { type Readable, Transform } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { formatBytes, type SniffedType, sniffFileType } from '@bgremover/core/contract';
import { type Storage, safeFileName } from '@bgremover/jobs';
import type { SniffedMedia, UploadRole } from './media-checks.js';

/** A file from the request, stored (or refused) as it streamed in. */
export type Upload =
  | {
      ok: true;
      role: UploadRole;
      filename: string;
      key: string;
      media: 'image' | 'video';
      mime: string;
      /** A local copy of the bytes (see `localCopy` in `storeUpload`), for the caller to remove. */
      localCopy?: string;
    }
  | { ok: false; role: UploadRole; filename: string; error: string; status: 413 | 415 };

const SNIFF_BYTES = 64 * 1024;

/** An uploaded file's bytes as they arrive; `truncated` is set when it hit the size limit. */
export type UploadStream = Readable & { truncated?: boolean };

/**
 * Streams one uploaded file into storage under `key` without holding it in memory: the first
 * 64 KB are read to identify the file from its bytes (never its name) and put back, then the
 * stream itself is piped to storage with back-pressure. A file that is not an image or video is
 * drained and refused (415); one over `maxBytes` is removed and refused (413).
 *
 * When `localCopy` returns a path for the identified file, the bytes are also written to that
 * local file as they stream to storage (whatever the storage), so the caller can inspect them
 * without reading them back; the upload names it, and a refused or failed one leaves none.
 */
export async function storeUpload(
  stream: UploadStream,
  options: {
    role: UploadRole;
    filename: string;
    key: string;
    storage: Storage;
    maxBytes: number;
    localCopy?: (sniffed: SniffedMedia) => string | undefined;
  },
): Promise<Upload> {
  const { role, key, storage } = options;
  const filename = options.filename || 'upload';
  const { head, ended } = await readHead(stream, SNIFF_BYTES);
  const sniffed = await sniffFileType(head);
  const media = mediaOf(sniffed);
  if (!media) {
    if (!ended) {
      stream.resume();
      await finished(stream);
    }
    return {
      ok: false,
      role,
      filename,
      status: 415,
      error: unsupportedMessage(filename, head.length, sniffed),
    };
  }
  const mime = sniffed.mime ?? 'application/octet-stream';
  const copyPath = options.localCopy?.({ media, mime });
  try {
    if (ended) {
      if (copyPath) await writeFile(copyPath, head);
      await storage.put(key, head, mime);
    } else {
      stream.unshift(head);
      if (copyPath) await putWithCopy(storage, key, stream, mime, copyPath);
      else await storage.put(key, stream, mime);
    }
  } catch (error) {
    if (copyPath) await rm(copyPath, { force: true });
    throw error;
  }
  if (stream.truncated) {
    if (copyPath) await rm(copyPath, { force: true });
    await storage.delete(key);
    return {
      ok: false,
      role,
      filename,
      status: 413,
      error: `${filename} is larger than the upload limit of ${formatBytes(options.maxBytes)}`,
    };
  }
  return {
    ok: true,
    role,
    filename,
    key,
    media,
    mime,
    ...(copyPath ? { localCopy: copyPath } : {}),
  };
}

/**
 * Streams `stream` to storage and, chunk by chunk, to the local file `copyPath`, with
 * back-pressure from both. A failure on either side (the client's stream cut, storage or the
 * local disk failing) fails both, so storage removes its staging object.
 */
async function putWithCopy(
  storage: Storage,
  key: string,
  stream: Readable,
  mime: string,
  copyPath: string,
): Promise<void> {
  const copy = createWriteStream(copyPath);
  const tee = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      if (copy.write(chunk)) callback(null, chunk);
      else copy.once('drain', () => callback(null, chunk));
    },
    // Storage sees the end only once the copy is complete on disk (or failed).
    flush(callback) {
      copy.end();
      finished(copy).then(() => callback(), callback);
    },
  });
  copy.on('error', (error) => tee.destroy(error));
  const piped = pipeline(stream, tee);
  try {
    await Promise.all([storage.put(key, tee, mime), piped]);
  } catch (error) {
    tee.destroy(error as Error);
    copy.destroy();
    await piped.catch(() => undefined);
    // Whichever side failed, no object may stay behind for an upload that is not returned.
    await storage.delete(key).catch(() => undefined);
    throw error;
  }
}

/**
 * Takes at least `bytes` from the start of a stream (all of it when it is shorter) and leaves
 * the stream paused. `ended` says the head is the whole stream; otherwise the caller unshifts
 * the head and reads on from the start.
 */
function readHead(stream: Readable, bytes: number): Promise<{ head: Buffer; ended: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const settle = (ended: boolean) => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      resolve({ head: Buffer.concat(chunks, length), ended });
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      length += chunk.length;
      if (length >= bytes) {
        stream.pause();
        settle(false);
      }
    };
    const onEnd = () => settle(true);
    const onError = (error: Error) => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      reject(error);
    };
    stream.on('data', onData);
    stream.once('end', onEnd);
    stream.once('error', onError);
  });
}

/** The storage key of the n-th upload of a request. */
export function uploadKey(requestId: string, index: number, filename: string): string {
  return `inputs/${requestId}/${index}-${safeFileName(filename)}`;
}

function mediaOf(sniffed: SniffedType): 'image' | 'video' | undefined {
  if (sniffed.kind === 'image' || sniffed.kind === 'video') return sniffed.kind;
  // Matroska/WebM audio-only files sniff as audio; real video containers sniff as video.
  return undefined;
}

function unsupportedMessage(filename: string, size: number, sniffed: SniffedType): string {
  if (size === 0) return `${filename} is empty (0 bytes)`;
  const what = sniffed.mime
    ? `a ${sniffed.mime} file`
    : 'not an image or video (no known signature)';
  return `${filename} is ${what}: send an image (JPEG, PNG, WebP, GIF, TIFF, AVIF) or a video (MP4, MOV, WebM, MKV, AVI, GIF)`;
}
