import { open } from 'node:fs/promises';
import { extname } from 'node:path';
import { sniffFileType } from '../image/sniff.js';
import { gifHasSeveralFrames } from './gif-frames.js';

/** File extensions that name video containers we accept. */
export const videoFileExtensions = ['.mp4', '.mov', '.webm', '.mkv', '.avi', '.m4v'] as const;

/**
 * Whether a file belongs to the video pipeline rather than the image one: its bytes say video
 * (MP4, MOV, WebM, MKV, AVI), it is a GIF with more than one frame, or its bytes match no known
 * signature and its name ends in a video extension (so a text file named .mp4 gets the video
 * pipeline's clear refusal instead of the image pipeline's). Reads at most 64 KiB, plus a GIF's
 * blocks up to its second frame (no pixels are decoded, and no native module is loaded).
 */
export async function isVideoFile(path: string): Promise<boolean> {
  const sniffed = await sniffFileType(await readHead(path));
  if (sniffed.kind === 'video') return true;
  if (sniffed.mime === 'image/gif') return gifHasSeveralFrames(path);
  if (sniffed.kind === 'unknown') {
    return (videoFileExtensions as readonly string[]).includes(extname(path).toLowerCase());
  }
  return false;
}

async function readHead(path: string): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(64 * 1024);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}
