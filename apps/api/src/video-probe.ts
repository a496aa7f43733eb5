import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isBgRemoverError, probeVideo } from '@bgremover/core/contract';
import type { ProbeOutcome } from './media-checks.js';

/** A fresh path in the OS temp folder for the local copy of one upload being probed. */
export function probeCopyPath(): string {
  return join(tmpdir(), `bgremover-probe-${randomUUID()}`);
}

/**
 * Inspects the local copy of an uploaded video with ffprobe (under MAX_VIDEO_PIXELS), then
 * removes the copy. A file ffprobe refuses is an outcome, not an error: the request's checks
 * decide what it means (media-checks.ts); anything else is thrown.
 */
export async function probeLocalCopy(path: string, maxVideoPixels: number): Promise<ProbeOutcome> {
  try {
    return { ok: true, info: await probeVideo(path, maxVideoPixels) };
  } catch (error) {
    if (isBgRemoverError(error)) return { ok: false, error };
    throw error;
  } finally {
    await rm(path, { force: true });
  }
}
