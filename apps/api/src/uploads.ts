import { Readable } from 'node:stream';
import { type SniffedType, sniffFileType } from '@bgremover/core';
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
      bytes: number;
    }
  | { ok: false; role: UploadRole; filename: string; error: string; status: 413 | 415 };

const SNIFF_BYTES = 64 * 1024;

/**
 * Streams one uploaded file into storage under `key` without holding it in memory: the first
 * 64 KB are read to identify the file from its bytes (never its name), then the rest follows
 * with back-pressure. A file that is not an image or video is drained and refused (415); one
 * over `maxBytes` is removed and refused (413).
 */
export async function storeUpload(
  stream: AsyncIterable<Buffer> & { truncated?: boolean },
  options: { role: UploadRole; filename: string; key: string; storage: Storage; maxBytes: number },
): Promise<Upload> {
  const { role, key, storage } = options;
  const filename = options.filename || 'upload';
  const iterator = stream[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let headBytes = 0;
  let ended = false;
  while (headBytes < SNIFF_BYTES) {
    const next = await iterator.next();
    if (next.done) {
      ended = true;
      break;
    }
    head.push(next.value);
    headBytes += next.value.length;
  }
  const headBuffer = Buffer.concat(head);
  const sniffed = await sniffFileType(headBuffer);
  const media = mediaOf(sniffed);
  if (!media) {
    if (!ended) for await (const _chunk of { [Symbol.asyncIterator]: () => iterator }) void _chunk;
    return {
      ok: false,
      role,
      filename,
      status: 415,
      error: unsupportedMessage(filename, headBuffer.length, sniffed),
    };
  }
  let bytes = headBuffer.length;
  const body = Readable.from(
    (async function* () {
      yield headBuffer;
      if (ended) return;
      for (;;) {
        const next = await iterator.next();
        if (next.done) return;
        bytes += next.value.length;
        yield next.value;
      }
    })(),
  );
  await storage.put(key, body, sniffed.mime ?? 'application/octet-stream');
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
  return {
    ok: true,
    role,
    filename,
    key,
    media,
    mime: sniffed.mime ?? 'application/octet-stream',
    bytes,
  };
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

function formatBytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(0)} MB`;
}
