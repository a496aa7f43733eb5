import { execFile } from 'node:child_process';
import { copyFile, readdir, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  BgRemoverError,
  removeVideoBackground,
  type VideoParamsInput,
  type VideoProgress,
} from '../src/index.js';
import {
  backgroundPoints,
  clip,
  decodeFrame,
  ffprobe,
  makeAudioOnly,
  makeClip,
  makePattern,
  pixel,
  rate,
  streamsOf,
  subjectCentre,
  useVideoFixtures,
} from './video-helpers.js';

const fixtures = useVideoFixtures('video');
const execFileAsync = promisify(execFile);

const base = { model: 'u2netp' } as const;

/** Removes the background of `input` (u2netp unless `params` says) into the work folder's `name`. */
function runOn(
  input: string,
  params: VideoParamsInput,
  name: string,
  extra: Record<string, unknown> = {},
) {
  return removeVideoBackground(
    input,
    { ...base, ...params },
    { config: fixtures.config, outputPath: join(fixtures.work.path, name), ...extra },
  );
}

/** `runOn` the fixture clip. */
function run(params: VideoParamsInput, name: string, extra: Record<string, unknown> = {}) {
  return runOn(fixtures.source, params, name, extra);
}

/** The MD5 of each packet of a file's first audio track, in order. */
async function audioPacketHashes(path: string): Promise<string[]> {
  const { stdout } = await execFileAsync(
    'ffmpeg',
    ['-v', 'error', '-i', path, '-map', '0:a:0', '-c', 'copy', '-f', 'framemd5', 'pipe:1'],
    { maxBuffer: 16 << 20 },
  );
  return stdout
    .split('\n')
    .filter((line) => line.length > 0 && !line.startsWith('#'))
    .map((line) => line.split(',').at(-1)?.trim() ?? '');
}

/** Source frames to check: first, middle, last. */
const sampleFrames = [0, 6, clip.frames - 1];

async function expectCutout(path: string, frames = sampleFrames): Promise<void> {
  for (const n of frames) {
    const frame = await decodeFrame(path, n, clip.width, clip.height);
    const centre = subjectCentre(n);
    const [r, g, b, a] = pixel(frame, clip.width, centre.x, centre.y);
    expect(a, `subject alpha in frame ${n}`).toBeGreaterThan(220);
    expect(r, `subject red in frame ${n}`).toBeGreaterThan(170);
    expect(Math.max(g, b)).toBeLessThan(90);
    for (const point of backgroundPoints) {
      expect(
        pixel(frame, clip.width, point.x, point.y)[3],
        `background alpha in frame ${n}`,
      ).toBeLessThan(40);
    }
  }
}

async function expectComposite(
  path: string,
  background: [number, number, number],
  frames = sampleFrames,
): Promise<void> {
  for (const n of frames) {
    const frame = await decodeFrame(path, n, clip.width, clip.height);
    const centre = subjectCentre(n);
    const [r, g, b, a] = pixel(frame, clip.width, centre.x, centre.y);
    expect(a).toBe(255);
    expect(r, `subject in frame ${n}`).toBeGreaterThan(170);
    expect(Math.max(g, b)).toBeLessThan(90);
    for (const point of backgroundPoints) {
      const seen = pixel(frame, clip.width, point.x, point.y);
      for (let channel = 0; channel < 3; channel++) {
        expect(
          Math.abs(seen[channel]! - background[channel]!),
          `background at ${point.x},${point.y} of frame ${n}: ${seen.join(',')}`,
        ).toBeLessThan(40);
      }
      expect(seen[3]).toBe(255);
    }
  }
}

function expectTiming(report: Awaited<ReturnType<typeof ffprobe>>, frames: number, fps: number) {
  const { video } = streamsOf(report);
  expect(Number(video.nb_read_frames)).toBe(frames);
  expect(rate(video.avg_frame_rate)).toBeCloseTo(fps, 0);
  expect(Number(report.format.duration)).toBeCloseTo(frames / fps, 1);
}

describe('removeVideoBackground: every format', () => {
  it('mov: ProRes 4444 with alpha and AAC audio, source size, rate and length', async () => {
    const result = await run({ video_format: 'mov' }, 'out.mov');
    expect(result).toMatchObject({
      contentType: 'video/quicktime',
      frames: clip.frames,
      width: clip.width,
      height: clip.height,
      fps: clip.fps,
      audio: true,
      model: 'u2netp',
      warnings: [],
    });
    const report = await ffprobe(result.path);
    const { video, audio } = streamsOf(report);
    expect(video.codec_name).toBe('prores');
    expect(video.profile).toBe('4444');
    // Written as yuva444p10le; ffmpeg's ProRes decoder reports 4444 streams at 12 bits.
    expect(video.pix_fmt).toMatch(/^yuva444p1[02]le$/);
    expect([video.width, video.height]).toEqual([clip.width, clip.height]);
    expect(audio?.codec_name).toBe('aac');
    expectTiming(report, clip.frames, clip.fps);
    await expectCutout(result.path);
  });

  it('copies an AAC track into mov packet for packet; webm gets it as Opus', async () => {
    const result = await run({ video_format: 'mov' }, 'audio-copy.mov');
    const [source, copied] = await Promise.all([
      audioPacketHashes(fixtures.source),
      audioPacketHashes(result.path),
    ]);
    expect(copied.length).toBeGreaterThan(10);
    // A re-encoded track would not share a single packet with the source.
    expect(copied).toEqual(source.slice(0, copied.length));
    const webm = await run({ video_format: 'webm' }, 'audio-opus.webm');
    expect(streamsOf(await ffprobe(webm.path)).audio?.codec_name).toBe('opus');
  });

  it('webm: VP9 with an alpha channel and Opus audio', async () => {
    const result = await run({ video_format: 'webm' }, 'out.webm');
    expect(result.contentType).toBe('video/webm');
    const report = await ffprobe(result.path);
    const { video, audio } = streamsOf(report);
    expect(video.codec_name).toBe('vp9');
    expect(video.tags?.alpha_mode ?? video.tags?.ALPHA_MODE).toBe('1');
    expect([video.width, video.height]).toEqual([clip.width, clip.height]);
    expect(audio?.codec_name).toBe('opus');
    expect(Number(video.nb_read_frames)).toBe(clip.frames);
    expect(rate(video.avg_frame_rate)).toBe(clip.fps);
    await expectCutout(result.path);
  });

  it('gif: transparent, the source rate (under the 15 fps policy), no audio', async () => {
    const result = await run({ video_format: 'gif' }, 'out.gif');
    expect(result).toMatchObject({ contentType: 'image/gif', audio: false, fps: clip.fps });
    const report = await ffprobe(result.path);
    const { video, audio } = streamsOf(report);
    expect(video.codec_name).toBe('gif');
    expect(audio).toBeUndefined();
    expect([video.width, video.height]).toEqual([clip.width, clip.height]);
    expectTiming(report, clip.frames, clip.fps);
    await expectCutout(result.path);
  });

  it('mattekey: the mask as H.264 yuv420p at source size, with the audio', async () => {
    const result = await run({ video_format: 'mattekey' }, 'matte.mp4');
    const report = await ffprobe(result.path);
    const { video, audio } = streamsOf(report);
    expect([video.codec_name, video.pix_fmt, video.width, video.height]).toEqual([
      'h264',
      'yuv420p',
      clip.width,
      clip.height,
    ]);
    expect(audio?.codec_name).toBe('aac');
    expectTiming(report, clip.frames, clip.fps);
    for (const n of sampleFrames) {
      const frame = await decodeFrame(result.path, n, clip.width, clip.height);
      const centre = subjectCentre(n);
      expect(pixel(frame, clip.width, centre.x, centre.y)[0]).toBeGreaterThan(220);
      for (const point of backgroundPoints) {
        expect(pixel(frame, clip.width, point.x, point.y)[0]).toBeLessThan(40);
      }
    }
  });

  it('mp4_with_color: the subject over video_bg_color, H.264 + AAC', async () => {
    const result = await run(
      { video_format: 'mp4_with_color', video_bg_color: '#00ff00' },
      'green.mp4',
    );
    const report = await ffprobe(result.path);
    const { video, audio } = streamsOf(report);
    expect([video.codec_name, video.pix_fmt]).toEqual(['h264', 'yuv420p']);
    expect(audio?.codec_name).toBe('aac');
    expectTiming(report, clip.frames, clip.fps);
    await expectComposite(result.path, [0, 255, 0]);
  });

  it.each([
    {
      title: 'video_over_image: the subject over a cover-fitted picture (aspect kept, centred)',
      format: 'video_over_image',
      name: 'over-image.mp4',
      background: () => ({ backgroundImage: fixtures.picture }),
    },
    {
      title:
        'video_over_video: a shorter background video looped, cover-fitted, at the foreground rate',
      format: 'video_over_video',
      name: 'over-video.mp4',
      background: () => ({ backgroundVideo: fixtures.backgroundVideo }),
    },
  ] as const)('$title', async ({ format, name, background }) => {
    const result = await run({ video_format: format }, name, background());
    const report = await ffprobe(result.path);
    const { video, audio } = streamsOf(report);
    expect([video.codec_name, video.width, video.height]).toEqual([
      'h264',
      clip.width,
      clip.height,
    ]);
    expect(audio?.codec_name).toBe('aac');
    expectTiming(report, clip.frames, clip.fps);
    // Cover-fit shows the picture's middle band only; stretching would show magenta and yellow.
    await expectComposite(result.path, [0, 0, 255]);
  });

  it('gif_with_bg: an opaque GIF over the cover-fitted picture', async () => {
    const result = await run({ video_format: 'gif_with_bg' }, 'over-image.gif', {
      backgroundImage: fixtures.picture,
    });
    const report = await ffprobe(result.path);
    expect(streamsOf(report).video.codec_name).toBe('gif');
    expectTiming(report, clip.frames, clip.fps);
    await expectComposite(result.path, [0, 0, 255]);
  });
});

describe('removeVideoBackground: frames, rate, colour and hooks', () => {
  it('frame_limit writes only the first N frames, and the audio is cut to match', async () => {
    const result = await run({ video_format: 'mov', frame_limit: 5 }, 'limited.mov');
    expect(result.frames).toBe(5);
    const report = await ffprobe(result.path);
    expectTiming(report, 5, clip.fps);
    const { audio } = streamsOf(report);
    expect(Number(audio?.duration)).toBeLessThan(0.6);
    await expectCutout(result.path, [0, 4]);
  });

  it('framerate resamples the frames (it does not relabel them)', async () => {
    const result = await run({ video_format: 'webm', framerate: 5 }, 'resampled.webm');
    expect(result.fps).toBe(5);
    const report = await ffprobe(result.path);
    const { video } = streamsOf(report);
    expect(rate(video.avg_frame_rate)).toBe(5);
    const frames = Number(video.nb_read_frames);
    expect(frames).toBe(Math.round(clip.seconds * 5));
    expect(Number(report.format.duration)).toBeCloseTo(clip.seconds, 0);
    // Output frame k shows the source at time k/5 s, i.e. source frame 2k.
    for (const k of [1, 3, 5]) {
      const frame = await decodeFrame(result.path, k, clip.width, clip.height);
      const centre = subjectCentre(2 * k);
      expect(pixel(frame, clip.width, centre.x, centre.y)[3], `frame ${k}`).toBeGreaterThan(220);
    }
  });

  it('video_bg_color_enabled composes any format over the colour', async () => {
    const result = await run(
      {
        video_format: 'mov',
        video_bg_color_enabled: true,
        video_bg_color: '#ff8000',
        frame_limit: 3,
      },
      'orange.mov',
    );
    await expectComposite(result.path, [255, 128, 0], [0, 2]);
  });

  it('reports frame progress, mattes frames with alpha_matting, and calls a given mask refiner', async () => {
    const progress: VideoProgress[] = [];
    const matted = await run(
      { video_format: 'mattekey', frame_limit: 3, alpha_matting: true },
      'p.mp4',
      {
        onProgress: (step: VideoProgress) => progress.push(step),
      },
    );
    expect(matted.warnings.join(' ')).not.toContain('not yet applied');
    expect(progress).toEqual([1, 2, 3].map((framesDone) => ({ framesDone, framesTotal: 3 })));
    const plain = await run({ video_format: 'mattekey', frame_limit: 3 }, 'q.mp4');
    const mattedFrame = await decodeFrame(matted.path, 0, clip.width, clip.height);
    const plainFrame = await decodeFrame(plain.path, 0, clip.width, clip.height);
    let changed = 0;
    for (let i = 0; i < plainFrame.length; i++)
      if (Math.abs(mattedFrame[i]! - plainFrame[i]!) > 8) changed++;
    expect(changed).toBeGreaterThan(0); // matting refined the edges

    const calls: number[] = [];
    const refined = await run(
      { video_format: 'mattekey', frame_limit: 2, alpha_matting: true },
      'r.mp4',
      {
        refineMask: async (rgb: Buffer, mask: Buffer, width: number, height: number) => {
          expect(rgb.length).toBe(width * height * 3);
          calls.push(mask.length);
          return mask.fill(255);
        },
      },
    );
    expect(calls).toEqual([clip.width * clip.height, clip.width * clip.height]);
    expect(refined.warnings).toEqual([]);
    const frame = await decodeFrame(refined.path, 0, clip.width, clip.height);
    expect(pixel(frame, clip.width, 4, 4)[0]).toBeGreaterThan(240);
  });

  it('stops ffmpeg and removes the partial file when aborted', async () => {
    const controller = new AbortController();
    const output = join(fixtures.work.path, 'aborted.mov');
    const pending = removeVideoBackground(
      fixtures.source,
      { ...base, video_format: 'mov' },
      {
        config: fixtures.config,
        outputPath: output,
        signal: controller.signal,
        onProgress: ({ framesDone }: VideoProgress) => {
          if (framesDone === 2) controller.abort();
        },
      },
    );
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    await expect(stat(output)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('removeVideoBackground: size and rate policies', () => {
  it('GIF: at most 15 fps and 640 px on the longer side by default', async () => {
    const input = await makePattern(fixtures.work.path, 1280, 720, 30, 1);
    const result = await runOn(input, { video_format: 'gif', frame_limit: 3 }, 'policy.gif');
    expect([result.width, result.height, result.fps, result.frames]).toEqual([640, 360, 15, 3]);
    const report = await ffprobe(result.path);
    const { video } = streamsOf(report);
    expect([video.width, video.height, Number(video.nb_read_frames)]).toEqual([640, 360, 3]);
    // GIF delays are whole hundredths (7, 7, 6 for 15 fps), so three frames average 16.7 fps.
    expect(rate(video.avg_frame_rate)).toBeGreaterThan(14);
    expect(rate(video.avg_frame_rate)).toBeLessThan(17);
  });

  it('H.264 outputs of an odd-sized source lose one pixel column and row, with a warning', async () => {
    const input = await makePattern(fixtures.work.path, 161, 121, 10, 0.5);
    const result = await runOn(input, { video_format: 'mattekey', frame_limit: 2 }, 'odd.mp4');
    expect([result.width, result.height]).toEqual([160, 120]);
    expect(result.warnings.join(' ')).toContain('H.264 needs an even size');
    const { video } = streamsOf(await ffprobe(result.path));
    expect([video.width, video.height]).toEqual([160, 120]);
  });
});

describe('removeVideoBackground: inputs', () => {
  it.each(['mov', 'webm', 'mkv', 'avi', 'gif'] as const)('reads %s input', async (container) => {
    const input = await makeClip(fixtures.work.path, container, { seconds: 0.5 });
    const result = await runOn(
      input,
      { video_format: 'mattekey', frame_limit: 2 },
      `from-${container}.mp4`,
    );
    expect(result.frames).toBe(2);
    expect(result.audio).toBe(container !== 'gif');
    const frame = await decodeFrame(result.path, 1, clip.width, clip.height);
    const centre = subjectCentre(1);
    expect(pixel(frame, clip.width, centre.x, centre.y)[0]).toBeGreaterThan(200);
  });

  async function refusal(path: string, params: VideoParamsInput = {}, extra = {}) {
    const error = await removeVideoBackground(
      path,
      { ...base, ...params },
      {
        config: fixtures.config,
        outputPath: join(fixtures.work.path, 'never.mov'),
        ...extra,
      },
    ).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BgRemoverError);
    return error as BgRemoverError;
  }

  it('refuses an audio-only file', async () => {
    const error = await refusal(await makeAudioOnly(fixtures.work.path));
    expect(error.code).toBe('unsupported_input');
    expect(error.message).toBe('The file has no video stream (it contains audio only)');
    const withCover = await refusal(await makeAudioOnly(fixtures.work.path, fixtures.picture));
    expect(withCover.message).toBe('The file has no video stream (it contains audio only)');
  });

  it('refuses a zero-byte file', async () => {
    const empty = join(fixtures.work.path, 'empty.mp4');
    await writeFile(empty, '');
    const error = await refusal(empty);
    expect([error.code, error.message]).toEqual(['empty_input', 'The file is empty (0 bytes)']);
  });

  it('refuses a text file named .mp4', async () => {
    const text = join(fixtures.work.path, 'notes.mp4');
    await writeFile(text, 'this is not a video, just some notes\n'.repeat(20));
    const error = await refusal(text);
    expect(error.code).toBe('unsupported_input');
    expect(error.message).toContain('The file is not a video');
  });

  it('refuses a corrupt (truncated) video', async () => {
    const cut = join(fixtures.work.path, 'cut.mp4');
    await copyFile(fixtures.source, cut);
    await truncate(cut, 3000);
    const error = await refusal(cut);
    expect(error.code).toBe('corrupt_input');
    expect(error.message).toMatch(/corrupt or truncated|could not be decoded|no decodable/);
  });

  it('refuses a video whose frames are garbage after a valid header', async () => {
    const input = await makeClip(fixtures.work.path, 'avi', { seconds: 0.5, audio: false });
    const broken = join(fixtures.work.path, 'garbage.avi');
    const bytes = (await import('node:fs/promises')).readFile(input);
    const data = Buffer.from(await bytes);
    for (let i = 600; i < data.length; i++) data[i] = (i * 7919) & 0xff;
    await writeFile(broken, data);
    const error = await refusal(broken, { video_format: 'mattekey' });
    expect(error.code).toBe('corrupt_input');
  });

  it('refuses a still image and a missing background, naming them', async () => {
    const still = await refusal(fixtures.picture);
    expect(still.message).toContain('is a still image');
    const missing = await refusal(fixtures.source, { video_format: 'video_over_image' });
    expect([missing.code, missing.field]).toEqual(['missing_background', 'bg_image']);
    const missingVideo = await refusal(fixtures.source, { video_format: 'video_over_video' });
    expect(missingVideo.field).toBe('bg_video');
    const badBackground = await refusal(
      fixtures.source,
      { video_format: 'video_over_video' },
      {
        backgroundVideo: join(fixtures.work.path, 'notes.mp4'),
      },
    );
    expect(badBackground.field).toBe('bg_video');
  });

  it('leaves no stray files behind after refusals', async () => {
    expect((await readdir(fixtures.work.path)).filter((name) => name.startsWith('never'))).toEqual(
      [],
    );
  });
});
