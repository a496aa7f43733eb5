/**
 * Sources that broke the default format: odd sizes, interlaced fields, variable frame rates and
 * alpha of their own. Each is built from the synthetic clip with ffmpeg and judged by its pixels.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CoreConfig,
  closeInferenceThread,
  probeVideo,
  removeVideoBackground,
} from '../src/index.js';
import { realConfig, tempDir } from './helpers.js';
import {
  clip,
  decodeFrame,
  ffmpeg,
  ffprobe,
  makeClip,
  pixel,
  rate,
  regionMismatch,
  streamsOf,
} from './video-helpers.js';

let config: CoreConfig;
let work: { path: string; cleanup: () => Promise<void> };
let source: string;

beforeAll(async () => {
  config = realConfig();
  work = await tempDir('video-sources');
  source = await makeClip(work.path, 'mkv');
});
afterAll(async () => {
  await closeInferenceThread();
  await work.cleanup();
});

const SUBJECT = { kind: 'opaque', rgb: [220, 40, 40], tolerance: 40 } as const;

/**
 * Pixels that comb: brighter (or darker) than both the row above and the row below by over 40
 * in red over black (colour times alpha), the signature of two fields woven from different
 * moments.
 */
function combedPixels(frame: Buffer): number {
  const red = (x: number, y: number) => {
    const [r, , , a] = pixel(frame, clip.width, x, y);
    return (r * a) / 255;
  };
  let combed = 0;
  for (let y = 1; y < clip.height - 1; y++) {
    for (let x = 0; x < clip.width; x++) {
      const up = red(x, y) - red(x, y - 1);
      const down = red(x, y) - red(x, y + 1);
      if (up * down > 0 && Math.abs(up) > 40 && Math.abs(down) > 40) combed++;
    }
  }
  return combed;
}

describe('odd sources', () => {
  it('an odd-sized source gives the default mov, one pixel smaller, with a warning', async () => {
    const odd = join(work.path, 'odd.mkv');
    await ffmpeg([
      '-i',
      source,
      '-vf',
      'format=yuv444p,pad=161:121:0:0:color=0x6b7d6b',
      '-c:v',
      'ffv1',
      odd,
    ]);
    expect((await probeVideo(odd, config.maxInputPixels)).width).toBe(161);
    const result = await removeVideoBackground(
      odd,
      { model: 'u2netp', frame_limit: 3 },
      {
        config,
        outputPath: join(work.path, 'odd.mov'),
      },
    );
    expect([result.width, result.height]).toEqual([160, 120]);
    expect(result.warnings.join(' ')).toContain('ProRes needs an even size');
    const { video } = streamsOf(await ffprobe(result.path));
    expect([video.codec_name, video.pix_fmt]).toEqual(['prores', 'yuva444p12le']);
    for (let n = 0; n < 3; n++) {
      const frame = await decodeFrame(result.path, n, 160, 120);
      const mismatch = regionMismatch(frame, n, SUBJECT, { kind: 'clear' });
      expect(mismatch.inside, mismatch.example).toBeLessThan(0.03);
      expect(mismatch.outside, mismatch.example).toBeLessThan(0.03);
    }
  });

  it('an interlaced source is deinterlaced: no combing on the moving subject', async () => {
    // Each frame weaves the top field of one moment with the bottom field of the next, 6 px
    // apart, so the subject's edges comb; the stream says it is top field first. 4:4:4 before
    // weaving, so that colour is stored per field too.
    const interlaced = join(work.path, 'interlaced.mp4');
    await ffmpeg([
      ...['-i', source, '-vf', 'format=yuv444p,tinterlace=interleave_top,setfield=tff'],
      ...['-flags', '+ilme+ildct', '-c:v', 'libx264', '-x264opts', 'tff=1', '-crf', '10'],
      ...['-pix_fmt', 'yuv444p', '-an', interlaced],
    ]);
    const info = await probeVideo(interlaced, config.maxInputPixels);
    expect(info.interlaced).toBe(true);
    // The source combs (so the measure can fail)...
    for (const n of [1, 2]) {
      expect(
        combedPixels(await decodeFrame(interlaced, n, clip.width, clip.height)),
      ).toBeGreaterThan(300);
    }
    // ...and the ProRes 4444 output (colour per row, no chroma subsampling) does not.
    const result = await removeVideoBackground(
      interlaced,
      { model: 'u2netp' },
      {
        config,
        outputPath: join(work.path, 'deinterlaced.mov'),
      },
    );
    expect(result.fps).toBe(5);
    for (const n of [1, 2]) {
      expect(combedPixels(await decodeFrame(result.path, n, clip.width, clip.height))).toBeLessThan(
        30,
      );
    }
  });

  it('a variable-frame-rate clip gets a standard rate, and its picture lasts as long as its sound', async () => {
    // Frames at irregular times (every 11th interval stretched), audio running 0.3 s past the
    // last frame, as phones write them: the average rate is an odd fraction.
    const vfr = join(work.path, 'vfr.mp4');
    await ffmpeg([
      ...['-i', source, '-f', 'lavfi', '-i', 'sine=frequency=440:duration=1.6'],
      ...['-vf', "setpts='(N/10+floor(N/4)*0.03)/TB'", '-fps_mode', 'vfr'],
      ...['-map', '0:v', '-map', '1:a', '-c:v', 'libx264', '-c:a', 'aac', vfr],
    ]);
    const sourceReport = await ffprobe(vfr);
    expect(rate(streamsOf(sourceReport).video.avg_frame_rate)).not.toBeCloseTo(10, 1);
    const info = await probeVideo(vfr, config.maxInputPixels);
    expect([info.variableFrameRate, info.fpsRational]).toEqual([true, '10/1']);

    const result = await removeVideoBackground(
      vfr,
      { model: 'u2netp' },
      {
        config,
        outputPath: join(work.path, 'vfr.mov'),
      },
    );
    const { video, audio } = streamsOf(await ffprobe(result.path));
    expect(video.avg_frame_rate).toBe('10/1');
    expect(Number(video.duration)).toBeGreaterThan(Number(audio?.duration) - 0.1);
    const frame = await decodeFrame(result.path, 0, clip.width, clip.height);
    const mismatch = regionMismatch(frame, 0, SUBJECT, { kind: 'clear' });
    expect(mismatch.inside, mismatch.example).toBeLessThan(0.03);
    expect(mismatch.outside, mismatch.example).toBeLessThan(0.03);
  });

  it('a webm with alpha keeps it: what was transparent in the source stays transparent', async () => {
    // A second subject sits in the right half, which the source's own alpha hides: the model
    // alone would keep it.
    const withAlpha = join(work.path, 'alpha.webm');
    await ffmpeg([
      ...['-i', source, '-filter_complex'],
      "[0:v]split[a][b];[b]crop=60:80:15:20,hflip[second];[a][second]overlay=x=95:y=20,format=yuva420p,geq=lum='lum(X,Y)':cb='cb(X,Y)':cr='cr(X,Y)':a='if(lt(X,84),255,0)'[v]",
      ...['-map', '[v]', '-frames:v', '2', '-c:v', 'libvpx-vp9', '-pix_fmt', 'yuva420p', withAlpha],
    ]);
    const info = await probeVideo(withAlpha, config.maxInputPixels);
    expect(info.hasAlpha).toBe(true);
    const result = await removeVideoBackground(
      withAlpha,
      { model: 'u2netp' },
      {
        config,
        outputPath: join(work.path, 'alpha.mov'),
      },
    );
    for (let n = 0; n < 2; n++) {
      const frame = await decodeFrame(result.path, n, clip.width, clip.height);
      const mismatch = regionMismatch(frame, n, SUBJECT, { kind: 'clear' });
      expect(mismatch.inside, mismatch.example).toBeLessThan(0.03);
      let visible = 0;
      for (let y = 0; y < clip.height; y++)
        for (let x = 84; x < clip.width; x++) if (pixel(frame, clip.width, x, y)[3] > 10) visible++;
      expect(visible, `opaque pixels where the source was transparent, frame ${n}`).toBe(0);
    }
  });
});
