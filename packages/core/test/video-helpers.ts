import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll } from 'vitest';
import { type CoreConfig, closeInferenceThread } from '../src/index.js';
import { realConfig, tempDir } from './helpers.js';

const run = promisify(execFile);

/** The synthetic clip's geometry: a red ellipse moving right across a noisy grey-green field. */
export const clip = {
  width: 160,
  height: 120,
  fps: 10,
  seconds: 1.2,
  frames: 12,
  subject: { width: 50, height: 70, x0: 20, y: 25, stepPerFrame: 6 },
} as const;

/** Where the subject's centre is in source frame `n`. */
export function subjectCentre(n: number): { x: number; y: number } {
  const { subject } = clip;
  return {
    x: subject.x0 + subject.stepPerFrame * n + subject.width / 2,
    y: subject.y + subject.height / 2,
  };
}

/** Points that are background in every frame (the subject never reaches the corners). */
export const backgroundPoints = [
  { x: 4, y: 4 },
  { x: 155, y: 4 },
  { x: 4, y: 115 },
  { x: 155, y: 115 },
] as const;

/** Runs ffmpeg quietly, overwriting its output. */
export async function ffmpeg(args: string[]): Promise<void> {
  await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args]);
}

/** Encoder arguments for each test container. */
const containerArgs: Record<string, string[]> = {
  mp4: ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac'],
  mov: ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac'],
  mkv: ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac'],
  webm: ['-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8', '-c:a', 'libopus'],
  avi: ['-c:v', 'mjpeg', '-q:v', '3', '-pix_fmt', 'yuvj420p', '-c:a', 'pcm_s16le'],
  gif: [],
};

/**
 * Builds the test clip with ffmpeg from lavfi sources: the subject (an ellipse PNG drawn by
 * sharp) overlaid at x = x0 + step * n on temporal noise, with a 440 Hz sine track (none in GIF).
 */
export async function makeClip(
  dir: string,
  container: keyof typeof containerArgs = 'mp4',
  options: { audio?: boolean; seconds?: number } = {},
): Promise<string> {
  const seconds = options.seconds ?? clip.seconds;
  const audio = (options.audio ?? true) && container !== 'gif';
  const ellipse = join(dir, 'subject.png');
  const { subject } = clip;
  await sharp(
    Buffer.from(
      `<svg xmlns="http://www.w3.org/2000/svg" width="${subject.width}" height="${subject.height}"><ellipse cx="${subject.width / 2}" cy="${subject.height / 2}" rx="${subject.width / 2 - 1}" ry="${subject.height / 2 - 1}" fill="#dc2828"/></svg>`,
    ),
  )
    .png()
    .toFile(ellipse);
  const path = join(dir, `clip-${container}-${seconds}${audio ? '' : '-mute'}.${container}`);
  const field = `color=c=0x6b7d6b:s=${clip.width}x${clip.height}:r=${clip.fps}:d=${seconds},noise=alls=30:allf=t+u`;
  const overlay = `[0:v][1:v]overlay=x='${subject.x0}+n*${subject.stepPerFrame}':y=${subject.y}:shortest=1`;
  const inputs = ['-f', 'lavfi', '-i', field, '-loop', '1', '-i', ellipse];
  if (audio) inputs.push('-f', 'lavfi', '-i', `sine=frequency=440:duration=${seconds}`);
  const graph = container === 'gif' ? `${overlay}[v]` : `${overlay},format=yuv420p[v]`;
  await ffmpeg([
    ...inputs,
    '-filter_complex',
    graph,
    '-map',
    '[v]',
    ...(audio ? ['-map', '2:a'] : []),
    ...(containerArgs[container] ?? []),
    '-t',
    String(seconds),
    path,
  ]);
  return path;
}

/** A test pattern clip of any size and rate (no subject, no audio), for size and rate policies. */
export async function makePattern(
  dir: string,
  width: number,
  height: number,
  fps: number,
  seconds: number,
): Promise<string> {
  const path = join(dir, `pattern-${width}x${height}-${fps}.mkv`);
  await ffmpeg([
    '-f',
    'lavfi',
    '-i',
    // testsrc2 rounds sizes down to even: draw larger, then crop to the exact size.
    `testsrc2=s=${width + (width % 2)}x${height + (height % 2)}:r=${fps}:d=${seconds},format=yuv444p,crop=${width}:${height}:0:0`,
    // FFV1: lossless, and any size.
    '-c:v',
    'ffv1',
    path,
  ]);
  return path;
}

/** An audio-only file (AAC in M4A), optionally with cover art (a one-picture video stream). */
export async function makeAudioOnly(dir: string, coverArt?: string): Promise<string> {
  const path = join(dir, coverArt ? 'tone-cover.m4a' : 'tone.m4a');
  const cover = coverArt ? ['-i', coverArt, '-map', '0:a', '-map', '1:v', '-c:v', 'png'] : [];
  const disposition = coverArt ? ['-disposition:v:0', 'attached_pic'] : [];
  await ffmpeg([
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=440:duration=1',
    ...cover,
    '-c:a',
    'aac',
    ...disposition,
    path,
  ]);
  return path;
}

/** A background picture of three vertical bands (magenta | blue | yellow), 400x100. */
export async function makeBandedPicture(dir: string): Promise<string> {
  const path = join(dir, 'bands.png');
  await sharp(
    Buffer.from(
      '<svg xmlns="http://www.w3.org/2000/svg" width="400" height="100"><rect width="130" height="100" fill="#ff00ff"/><rect x="130" width="140" height="100" fill="#0000ff"/><rect x="270" width="130" height="100" fill="#ffff00"/></svg>',
    ),
  )
    .png()
    .toFile(path);
  return path;
}

/** A short background video (0.5 s at 25 fps, 400x100, the same three bands). */
export async function makeBandedVideo(dir: string, picture: string): Promise<string> {
  const path = join(dir, 'bands.mp4');
  await ffmpeg([
    '-loop',
    '1',
    '-framerate',
    '25',
    '-i',
    picture,
    '-t',
    '0.5',
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-pix_fmt',
    'yuv420p',
    path,
  ]);
  return path;
}

/** ffprobe's view of a file, frames counted by decoding. */
export interface ProbeReport {
  streams: Array<{
    codec_type: string;
    codec_name: string;
    profile?: string;
    pix_fmt?: string;
    width?: number;
    height?: number;
    avg_frame_rate?: string;
    nb_read_frames?: string;
    duration?: string;
    tags?: Record<string, string>;
  }>;
  format: { duration?: string; format_name: string };
}

/** Runs the real ffprobe (counting frames) on an output. */
export async function ffprobe(path: string): Promise<ProbeReport> {
  const { stdout } = await run('ffprobe', [
    '-v',
    'error',
    '-count_frames',
    '-show_streams',
    '-show_format',
    '-of',
    'json',
    path,
  ]);
  return JSON.parse(stdout) as ProbeReport;
}

/** The video and audio streams of a report. */
export function streamsOf(report: ProbeReport) {
  const video = report.streams.find((stream) => stream.codec_type === 'video');
  const audio = report.streams.find((stream) => stream.codec_type === 'audio');
  if (!video) throw new Error('no video stream in the output');
  return { video, audio };
}

/** "15/1" -> 15. */
export function rate(text: string | undefined): number {
  const [numerator, denominator] = (text ?? '0/1').split('/').map(Number);
  return (numerator ?? 0) / (denominator || 1);
}

/**
 * Decodes output frame `n` to packed RGBA. VP9 alpha needs libvpx's decoder (ffmpeg's own
 * ignores the alpha side channel).
 */
export async function decodeFrame(
  path: string,
  n: number,
  width: number,
  height: number,
): Promise<Buffer> {
  const decoder = path.endsWith('.webm') ? ['-c:v', 'libvpx-vp9'] : [];
  const { stdout } = await run(
    'ffmpeg',
    [
      '-v',
      'error',
      ...decoder,
      '-i',
      path,
      '-vf',
      `select=eq(n\\,${n})`,
      '-frames:v',
      '1',
      '-f',
      'rawvideo',
      '-pix_fmt',
      'rgba',
      'pipe:1',
    ],
    { encoding: 'buffer', maxBuffer: 64 << 20 },
  );
  const buffer = stdout as unknown as Buffer;
  if (buffer.length !== width * height * 4) {
    throw new Error(
      `frame ${n} of ${path}: ${buffer.length} bytes, expected ${width * height * 4}`,
    );
  }
  return buffer;
}

/** The RGBA pixel at (x, y) of a packed frame. */
export function pixel(
  frame: Buffer,
  width: number,
  x: number,
  y: number,
): [number, number, number, number] {
  const offset = (Math.round(y) * width + Math.round(x)) * 4;
  return [frame[offset]!, frame[offset + 1]!, frame[offset + 2]!, frame[offset + 3]!];
}

/** What a region of a decoded frame must show. */
export type RegionExpectation =
  /** Opaque, with this colour (within `tolerance` per channel). */
  | { kind: 'opaque'; rgb: readonly [number, number, number]; tolerance: number }
  /** Transparent (alpha under 40). */
  | { kind: 'clear' }
  /** A grey level (mattekey): over 215 for "white", under 40 for "black". */
  | { kind: 'grey'; white: boolean };

/** Where a pixel sits against the subject of source frame `n`: inside, outside or on the edge. */
export function subjectRegion(n: number, x: number, y: number): 'inside' | 'outside' | 'edge' {
  const centre = subjectCentre(n);
  const rx = clip.subject.width / 2;
  const ry = clip.subject.height / 2;
  const distance = ((x - centre.x) / rx) ** 2 + ((y - centre.y) / ry) ** 2;
  if (distance < 0.45) return 'inside';
  if (distance > 2.2) return 'outside';
  return 'edge';
}

/**
 * Checks every pixel of the subject's inside and of the background (away from the edge band) of
 * a decoded RGBA frame, and returns the share of pixels of each region that do not match. The
 * edge band, where a mask is legitimately soft, is not judged.
 */
export function regionMismatch(
  frame: Buffer,
  n: number,
  inside: RegionExpectation,
  outside: RegionExpectation,
): { inside: number; outside: number; example: string } {
  const counts = { inside: [0, 0], outside: [0, 0] };
  let example = '';
  for (let y = 0; y < clip.height; y++) {
    for (let x = 0; x < clip.width; x++) {
      const region = subjectRegion(n, x, y);
      if (region === 'edge') continue;
      const expected = region === 'inside' ? inside : outside;
      const seen = pixel(frame, clip.width, x, y);
      const tally = counts[region];
      tally[1]!++;
      if (!matches(seen, expected)) {
        tally[0]!++;
        if (!example) example = `${region} ${x},${y}: ${seen.join(',')}`;
      }
    }
  }
  return {
    inside: counts.inside[0]! / counts.inside[1]!,
    outside: counts.outside[0]! / counts.outside[1]!,
    example,
  };
}

function matches(seen: [number, number, number, number], expected: RegionExpectation): boolean {
  const [r, g, b, a] = seen;
  if (expected.kind === 'clear') return a < 40;
  if (expected.kind === 'grey') return expected.white ? r > 215 && a === 255 : r < 40;
  const [er, eg, eb] = expected.rgb;
  const t = expected.tolerance;
  return a > 220 && Math.abs(r - er) <= t && Math.abs(g - eg) <= t && Math.abs(b - eb) <= t;
}

/** What a video suite works with: the real config, a temp folder, the clip and its backgrounds. */
export interface VideoFixtures {
  config: CoreConfig;
  work: { path: string; cleanup: () => Promise<void> };
  source: string;
  picture: string;
  backgroundVideo: string;
}

/**
 * Registers a suite's beforeAll (config, temp folder `prefix`, the mp4 clip, the banded picture and
 * video) and afterAll (closes the inference thread, then each of `closers`, then removes the
 * folder); the returned object is filled in by the time the tests run.
 */
export function useVideoFixtures(
  prefix: string,
  closers: ReadonlyArray<() => Promise<void>> = [],
): VideoFixtures {
  const fixtures = {} as VideoFixtures;
  beforeAll(async () => {
    fixtures.config = realConfig();
    fixtures.work = await tempDir(prefix);
    fixtures.source = await makeClip(fixtures.work.path, 'mp4');
    fixtures.picture = await makeBandedPicture(fixtures.work.path);
    fixtures.backgroundVideo = await makeBandedVideo(fixtures.work.path, fixtures.picture);
  });
  afterAll(async () => {
    await closeInferenceThread();
    for (const close of closers) await close();
    await fixtures.work.cleanup();
  });
  return fixtures;
}
