import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acceptedImageFormats, isVideoFile, sniffFileType } from '@bgremover/core';
import type { AttachmentInfo, MediaKind } from './attachments.js';

export type InspectOutcome =
  | { ok: true; kind: MediaKind; mime: string; durationSeconds: number | undefined }
  | { ok: false; problem: string };

export interface InspectOptions {
  maxVideoSeconds: number;
  maxInputBytes: number;
  timeoutMs?: number;
}

const HEAD_BYTES = 64 * 1024;
const imageMimes = acceptedImageFormats.map((format) => `image/${format}`);

/**
 * Looks at an attachment's bytes, never its name or declared type: the first 64 KiB must be a
 * picture format core reads or a video; an animated GIF counts as a video; a video must be at
 * most `maxVideoSeconds` long (ffprobe reads the length from the URL). Refusals name the file.
 */
export async function inspectAttachment(
  attachment: AttachmentInfo,
  options: InspectOptions,
): Promise<InspectOutcome> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  let head: Buffer;
  try {
    head = await fetchBytes(attachment.url, HEAD_BYTES, timeoutMs);
  } catch (error) {
    return {
      ok: false,
      problem: `${attachment.name} could not be downloaded from Discord (${(error as Error).message})`,
    };
  }
  const sniffed = await sniffFileType(head);
  const claimed = attachment.contentType ? `, although it says ${attachment.contentType}` : '';
  if (sniffed.kind === 'image' && sniffed.mime && imageMimes.includes(sniffed.mime)) {
    if (sniffed.mime === 'image/gif' && (await isAnimatedGif(attachment, options, timeoutMs))) {
      return withDuration(attachment, 'image/gif', options, timeoutMs);
    }
    return { ok: true, kind: 'image', mime: sniffed.mime, durationSeconds: undefined };
  }
  if (sniffed.kind === 'video' && sniffed.mime) {
    return withDuration(attachment, sniffed.mime, options, timeoutMs);
  }
  const found = sniffed.mime
    ? `its content is ${sniffed.mime}`
    : 'its content is not a known format';
  return {
    ok: false,
    problem: `${attachment.name} is not a picture or video we can process: ${found}${claimed}`,
  };
}

async function withDuration(
  attachment: AttachmentInfo,
  mime: string,
  options: InspectOptions,
  timeoutMs: number,
): Promise<InspectOutcome> {
  let seconds: number | undefined;
  try {
    seconds = await probeDuration(attachment.url, timeoutMs);
  } catch (error) {
    return {
      ok: false,
      problem: `${attachment.name}: the clip's length could not be read (${(error as Error).message})`,
    };
  }
  if (seconds === undefined) {
    return { ok: false, problem: `${attachment.name}: the clip does not state its length` };
  }
  if (seconds > options.maxVideoSeconds) {
    return {
      ok: false,
      problem: `${attachment.name} is ${seconds.toFixed(1)} s long; the limit is ${options.maxVideoSeconds} s`,
    };
  }
  return { ok: true, kind: 'video', mime, durationSeconds: seconds };
}

/** A GIF is a video when it has more than one frame (core's own test, on a downloaded copy). */
async function isAnimatedGif(
  attachment: AttachmentInfo,
  options: InspectOptions,
  timeoutMs: number,
): Promise<boolean> {
  const dir = await mkdtemp(join(tmpdir(), 'bgremover-discord-'));
  try {
    const path = join(dir, 'input.gif');
    await writeFile(path, await fetchBytes(attachment.url, options.maxInputBytes, timeoutMs));
    return await isVideoFile(path);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Downloads at most `limit` bytes of `url` (asking for a range; servers may send more). */
async function fetchBytes(url: string, limit: number, timeoutMs: number): Promise<Buffer> {
  const response = await fetch(url, {
    headers: { range: `bytes=0-${limit - 1}` },
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
  const chunks: Buffer[] = [];
  let received = 0;
  for await (const chunk of response.body) {
    chunks.push(Buffer.from(chunk));
    received += chunk.length;
    if (received >= limit) break;
  }
  return Buffer.concat(chunks).subarray(0, limit);
}

/** The length in seconds ffprobe reads from a URL; undefined when the file does not say. */
function probeDuration(url: string, timeoutMs: number): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    execFile(
      'ffprobe',
      ['-v', 'error', '-show_entries', 'format=duration', '-of', 'json', url],
      { timeout: timeoutMs },
      (error, stdout, stderr) => {
        if (error) {
          const reason =
            (error as NodeJS.ErrnoException).code === 'ENOENT'
              ? 'ffprobe is not installed where the bot runs'
              : stderr.trim().split('\n').pop() || error.message;
          reject(new Error(reason));
          return;
        }
        const parsed = JSON.parse(stdout) as { format?: { duration?: string } };
        const seconds = Number(parsed.format?.duration);
        resolve(Number.isFinite(seconds) && seconds > 0 ? seconds : undefined);
      },
    );
  });
}
