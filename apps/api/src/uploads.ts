import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { type SniffedType, sniffFileType } from '@bgremover/core/contract';
import { type Storage, safeFileName } from '@bgremover/jobs';

/** The form fields a file may arrive in: the seed's `files`, PHP's `file[0]`, and backgrounds. */
export type UploadRole = 'input' | 'background';

/**
 * Which role a multipart file field plays: `bg_image`, `bg_video` and `background` carry the
 * background; every other file field (`files`, PHP's `file[0]`, `file[1]`...) is an input.
 */
export function roleOfField(fieldName: string): UploadRole {
  return ['bg_image', 'bg_video', 'background'].includes(fieldName) ? 'background' : 'input';
}

/** A file from the request, stored (or refused) as it streamed in. */
export type Upload =
  | {
      ok: true;
      role: UploadRole;
      filename: string;
      key: string;
      media: 'image' | 'video';
      mime: string;
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
 */
export async function storeUpload(
  stream: UploadStream,
  options: { role: UploadRole; filename: string; key: string; storage: Storage; maxBytes: number },
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
  if (ended) {
    await storage.put(key, head, mime);
  } else {
    stream.unshift(head);
    await storage.put(key, stream, mime);
  }
  if (stream.truncated) {
    await storage.delete(key);
    return {
      ok: false,
      role,
      filename,
      status: 413,
      error: `${filename} is larger than the upload limit of ${formatBytes(options.maxBytes)}`,
    };
  }
  return { ok: true, role, filename, key, media, mime };
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

/** A size for people: bytes, KB, MB or GB (1024-based) with one decimal, e.g. "500.0 KB". */
export function formatBytes(bytes: number): string {
  const units = ['KB', 'MB', 'GB', 'TB'];
  if (bytes < 1024) return `${bytes} bytes`;
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}
