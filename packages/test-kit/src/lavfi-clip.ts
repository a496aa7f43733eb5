import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** What the clip is made of. */
export interface LavfiClipOptions {
  /** An ffmpeg lavfi video source, e.g. `testsrc2=size=160x120:rate=10:duration=1`. */
  video: string;
  /** A lavfi audio source, encoded as AAC and cut to the video's length; none when left out. */
  audio?: string;
  /** Puts the index first (`-movflags +faststart`), as browsers' uploads have it. */
  faststart?: boolean;
  /** An x264 preset (`ultrafast` for long clips whose pictures do not matter). */
  preset?: string;
}

/**
 * Encodes an H.264 (yuv420p) clip from ffmpeg's lavfi sources at `path` and returns `path`: a
 * small real video for tests that need one, with no fixture file. (Core's video tests use their
 * own clip, whose subject's position they know.)
 */
export async function makeLavfiClip(path: string, options: LavfiClipOptions): Promise<string> {
  const audio = options.audio ? ['-f', 'lavfi', '-i', options.audio] : [];
  await execFileAsync('ffmpeg', [
    '-v',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    options.video,
    ...audio,
    '-pix_fmt',
    'yuv420p',
    '-c:v',
    'libx264',
    ...(options.preset ? ['-preset', options.preset] : []),
    ...(options.audio ? ['-c:a', 'aac', '-shortest'] : []),
    ...(options.faststart ? ['-movflags', '+faststart'] : []),
    path,
  ]);
  return path;
}
