import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  acceptedImageFormats,
  DEFAULT_VIDEO_LIMITS,
  isVideoFile,
  sniffFileType,
} from '@bgremover/core/contract';
import type { AttachmentInfo, MediaKind } from './attachments.js';

export type InspectOutcome =
  | {
      ok: true;
      kind: MediaKind;
      mime: string;
      durationSeconds: number | undefined;
      /** The video stream's average rate, when ffprobe states one. */
      fps?: number | undefined;
    }
  | { ok: false; problem: string };

export interface InspectOptions {
  maxVideoSeconds: number;
  /** Frames one video job may write (core's MAX_VIDEO_FRAMES; default 18000). */
  maxVideoFrames?: number;
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
  let fps: number | undefined;
  try {
    ({ seconds, fps } = await probeDuration(attachment.url, timeoutMs));
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
  return { ok: true, kind: 'video', mime, durationSeconds: seconds, fps };
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

/**
 * The length in seconds and the video stream's rate that ffprobe reads from a URL (undefined
 * when the file does not say), under a 1 GiB address-space limit where `prlimit` exists (a tiny
 * file declaring a huge frame cannot take gigabytes here).
 */
function probeDuration(
  url: string,
  timeoutMs: number,
): Promise<{ seconds: number | undefined; fps: number | undefined }> {
  const args = [
    ...['-v', 'error', '-select_streams', 'v:0'],
    ...['-show_entries', 'format=duration:stream=avg_frame_rate', '-of', 'json', url],
  ];
  const limited = existsSync('/usr/bin/prlimit');
  return new Promise((resolve, reject) => {
    execFile(
      limited ? '/usr/bin/prlimit' : 'ffprobe',
      limited ? [`--as=${1024 ** 3}`, '--', 'ffprobe', ...args] : args,
      { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) {
          const reason =
            (error as NodeJS.ErrnoException).code === 'ENOENT'
              ? 'ffprobe is not installed where the bot runs'
              : stderr.trim().split('\n').pop() || error.message;
          reject(new Error(reason));
          return;
        }
        const parsed = JSON.parse(stdout) as {
          format?: { duration?: string };
          streams?: { avg_frame_rate?: string }[];
        };
        const seconds = Number(parsed.format?.duration);
        const [numerator, denominator] = (parsed.streams?.[0]?.avg_frame_rate ?? '').split('/');
        const fps = Number(numerator) / Number(denominator ?? '1');
        resolve({
          seconds: Number.isFinite(seconds) && seconds > 0 ? seconds : undefined,
          fps: Number.isFinite(fps) && fps > 0 && fps <= 240 ? fps : undefined,
        });
      },
    );
  });
}

/**
 * The frames a video job would write: its length at the output rate (the `framerate` asked for,
 * else the clip's own), capped by `frame_limit`; undefined when the rate is unknown (the worker
 * checks again on the file itself).
 */
export function plannedVideoFrames(
  seconds: number,
  sourceFps: number | undefined,
  params: Record<string, unknown>,
): number | undefined {
  const asked = Number(params.framerate);
  const fps = Number.isFinite(asked) && asked > 0 ? asked : sourceFps;
  if (fps === undefined) return undefined;
  const frames = Math.max(1, Math.ceil(seconds * fps - 1e-6));
  const limit = Number(params.frame_limit);
  return Number.isFinite(limit) && limit > 0 ? Math.min(frames, limit) : frames;
}

/** A refusal naming MAX_VIDEO_FRAMES when the planned frames are over it, else undefined. */
export function framesProblem(
  name: string,
  seconds: number,
  sourceFps: number | undefined,
  params: Record<string, unknown>,
  maxVideoFrames: number = DEFAULT_VIDEO_LIMITS.maxVideoFrames,
): string | undefined {
  const planned = plannedVideoFrames(seconds, sourceFps, params);
  if (planned === undefined || planned <= maxVideoFrames) return undefined;
  return `${name} would make ${planned} frames; the limit is ${maxVideoFrames} (MAX_VIDEO_FRAMES): choose a lower frame rate or a frame limit`;
}
