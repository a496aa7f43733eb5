/**
 * The rules /v1/convert/ applies to a request's files and parameters (media-checks.ts), on
 * plain data: no server, Redis, storage or ffprobe.
 */
import {
  BgRemoverError,
  type ConversionParams,
  parseConversionParams,
  type VideoInfo,
} from '@bgremover/core/contract';
import { describe, expect, it } from 'vitest';
import {
  backgroundNeeded,
  backgroundProblem,
  type CheckedFile,
  type CheckedInput,
  checkRequest,
  mediaKindRefusal,
  needsProbeCopy,
  noneAcceptedRefusal,
  roleOfField,
  videoProbeVerdict,
} from '../src/media-checks.js';

const png = { media: 'image', mime: 'image/png' } as const;
const gif = { media: 'image', mime: 'image/gif' } as const;
const mp4 = { media: 'video', mime: 'video/mp4' } as const;
const limits = { maxVideoSeconds: 600, maxVideoFrames: 20_000 };

const image = (fields: Record<string, string> = {}): ConversionParams =>
  parseConversionParams({ convert_to: 'image-backgroundremover', ...fields });
const video = (fields: Record<string, string> = {}): ConversionParams =>
  parseConversionParams({ convert_to: 'video-backgroundremover', ...fields });
const stored = (filename: string, sniffed: typeof png | typeof gif | typeof mp4): CheckedFile => ({
  ok: true,
  filename,
  ...sniffed,
});

/** A probed video: 30 fps, `seconds` long, 320x240. */
function videoInfo(seconds: number): VideoInfo {
  return {
    path: '/tmp/clip.mp4',
    width: 320,
    height: 240,
    fpsRational: '30/1',
    fps: 30,
    duration: seconds,
    estimatedFrames: seconds * 30,
    hasAudio: false,
    audioCodec: undefined,
    codec: 'h264',
    container: 'mp4',
    containerDuration: seconds,
    interlaced: false,
    hasAlpha: false,
    decoderOptions: [],
    variableFrameRate: false,
  };
}

describe('roleOfField', () => {
  it('bg_image, bg_video and background carry the background; any other field is an input', () => {
    expect(['bg_image', 'bg_video', 'background'].map(roleOfField)).toEqual([
      'background',
      'background',
      'background',
    ]);
    expect(['files', 'file[0]', 'file[1]', 'image'].map(roleOfField)).toEqual([
      'input',
      'input',
      'input',
      'input',
    ]);
  });
});

describe('needsProbeCopy', () => {
  it('copies inputs that may be converted as videos: videos and GIFs', () => {
    expect(needsProbeCopy('input', mp4, undefined)).toBe(true);
    expect(needsProbeCopy('input', gif, undefined)).toBe(true);
    expect(needsProbeCopy('input', mp4, 'video-backgroundremover')).toBe(true);
    expect(needsProbeCopy('input', png, undefined)).toBe(false);
  });
  it('copies nothing for backgrounds, nor once convert_to has said images', () => {
    expect(needsProbeCopy('background', mp4, undefined)).toBe(false);
    expect(needsProbeCopy('input', mp4, 'image-backgroundremover')).toBe(false);
    expect(needsProbeCopy('input', gif, ' image-backgroundremover ')).toBe(false);
  });
});

describe('mediaKindRefusal', () => {
  it('refuses a video in an image request, naming the convert_to to use', () => {
    expect(mediaKindRefusal({ filename: 'a.mp4', ...mp4 }, 'image')).toEqual({
      status: 415,
      error: 'a.mp4 is a video: send it with convert_to=video-backgroundremover',
    });
  });
  it('refuses a still image in a video request, but takes a GIF', () => {
    expect(mediaKindRefusal({ filename: 'a.png', ...png }, 'video')).toEqual({
      status: 415,
      error: 'a.png is an image: send it with convert_to=image-backgroundremover',
    });
    expect(mediaKindRefusal({ filename: 'a.gif', ...gif }, 'video')).toBeUndefined();
  });
  it('takes images in image requests (GIFs too) and videos in video requests', () => {
    expect(mediaKindRefusal({ filename: 'a.png', ...png }, 'image')).toBeUndefined();
    expect(mediaKindRefusal({ filename: 'a.gif', ...gif }, 'image')).toBeUndefined();
    expect(mediaKindRefusal({ filename: 'a.mp4', ...mp4 }, 'video')).toBeUndefined();
  });
});

describe('backgroundNeeded', () => {
  it('bg_type=image needs an image, unless only the mask is asked for', () => {
    expect(backgroundNeeded(image({ bg_type: 'image' }))).toBe('image');
    expect(backgroundNeeded(image({ bg_type: 'image', only_mask: 'true' }))).toBeUndefined();
    expect(backgroundNeeded(image())).toBeUndefined();
    expect(backgroundNeeded(image({ bg_type: 'color', bg_color: 'ff0000' }))).toBeUndefined();
  });
  it('video_over_video needs a video; video_over_image and gif_with_bg an image', () => {
    expect(backgroundNeeded(video({ video_format: 'video_over_video' }))).toBe('video');
    expect(backgroundNeeded(video({ video_format: 'video_over_image' }))).toBe('image');
    expect(backgroundNeeded(video({ video_format: 'gif_with_bg' }))).toBe('image');
    for (const format of ['mov', 'webm', 'gif', 'mattekey', 'mp4_with_color']) {
      expect(backgroundNeeded(video({ video_format: format }))).toBeUndefined();
    }
  });
});

describe('backgroundProblem', () => {
  it('names the field to send when a needed background is missing', () => {
    expect(backgroundProblem(image({ bg_type: 'image' }), undefined)).toBe(
      'bg_image: bg_type=image needs a background image; send it as bg_image',
    );
    expect(backgroundProblem(video({ video_format: 'video_over_video' }), undefined)).toBe(
      'bg_video: video_format=video_over_video needs a background video; send it as bg_video',
    );
    expect(backgroundProblem(video({ video_format: 'gif_with_bg' }), undefined)).toBe(
      'bg_image: video_format=gif_with_bg needs a background image; send it as bg_image',
    );
  });
  it('names the type sent when the background is of the wrong kind', () => {
    expect(backgroundProblem(image({ bg_type: 'image' }), stored('bg.mp4', mp4))).toBe(
      'bg_image: bg_type=image needs a background image, but the file sent is video/mp4',
    );
    expect(
      backgroundProblem(video({ video_format: 'video_over_video' }), stored('bg.png', png)),
    ).toBe(
      'bg_video: video_format=video_over_video needs a background video, but the file sent is image/png',
    );
  });
  it('takes a GIF as a background video, and the right kinds', () => {
    const overVideo = video({ video_format: 'video_over_video' });
    expect(backgroundProblem(overVideo, stored('bg.gif', gif))).toBeUndefined();
    expect(backgroundProblem(overVideo, stored('bg.mp4', mp4))).toBeUndefined();
    expect(backgroundProblem(image({ bg_type: 'image' }), stored('bg.png', png))).toBeUndefined();
  });
  it('passes a background nobody needs, and refuses a refused one whatever the output', () => {
    expect(backgroundProblem(image(), stored('bg.png', png))).toBeUndefined();
    const refused: CheckedFile = {
      ok: false,
      filename: 'bg.txt',
      status: 415,
      error: 'bg.txt is a text/plain file',
    };
    expect(backgroundProblem(image(), refused)).toBe('bg_image: bg.txt is a text/plain file');
  });
});

describe('videoProbeVerdict', () => {
  const params = (fields: Record<string, string> = {}) => {
    const conversion = video(fields);
    if (conversion.kind !== 'video') throw new Error('not a video conversion');
    return conversion.params;
  };
  it('accepts a video within the limits, with its duration', () => {
    expect(videoProbeVerdict('a.mp4', { ok: true, info: videoInfo(12) }, params(), limits)).toEqual(
      { ok: true, durationSeconds: 12 },
    );
  });
  it('refuses a video over MAX_VIDEO_SECONDS (413), unless frame_limit brings it under', () => {
    const long = { ok: true, info: videoInfo(3600) } as const;
    const verdict = videoProbeVerdict('long.mp4', long, params(), limits);
    expect(verdict).toMatchObject({ ok: false, status: 413 });
    expect(verdict.ok ? '' : verdict.error).toMatch(/^long\.mp4: .*MAX_VIDEO_SECONDS/);
    expect(videoProbeVerdict('long.mp4', long, params({ frame_limit: '300' }), limits)).toEqual({
      ok: true,
      durationSeconds: 3600,
    });
  });
  it('refuses a video over MAX_VIDEO_FRAMES (413)', () => {
    const verdict = videoProbeVerdict('a.mp4', { ok: true, info: videoInfo(500) }, params(), {
      maxVideoSeconds: 600,
      maxVideoFrames: 1000,
    });
    expect(verdict).toMatchObject({ ok: false, status: 413 });
    expect(verdict.ok ? '' : verdict.error).toMatch(/MAX_VIDEO_FRAMES/);
  });
  it('maps a probe refusal: too large is 413, unusable is 415, both prefixed by the name', () => {
    const failed = (code: 'input_too_large' | 'corrupt_input' | 'unsupported_input') =>
      videoProbeVerdict(
        'a.mp4',
        { ok: false, error: new BgRemoverError(code, 'The file is bad') },
        params(),
        limits,
      );
    expect(failed('input_too_large')).toEqual({
      ok: false,
      status: 413,
      error: 'a.mp4: The file is bad',
    });
    expect(failed('corrupt_input')).toMatchObject({ status: 415 });
    expect(failed('unsupported_input')).toMatchObject({ status: 415 });
  });
});

describe('noneAcceptedRefusal', () => {
  it('is 413 when every file was too large or long, else 415, listing each reason', () => {
    const big = { ok: false, status: 413, error: 'a is too big' } as const;
    const odd = { ok: false, status: 415, error: 'b is text' } as const;
    expect(noneAcceptedRefusal([big, big])).toEqual({
      status: 413,
      error: 'a is too big; a is too big',
    });
    expect(noneAcceptedRefusal([big, odd])).toEqual({
      status: 415,
      error: 'a is too big; b is text',
    });
  });
});

describe('checkRequest', () => {
  const request = (
    fields: Record<string, string>,
    inputs: CheckedInput[],
    background?: CheckedFile,
  ) => checkRequest({ fields, inputs, background, limits });
  const imageFields = { convert_to: 'image-backgroundremover' };
  const videoFields = { convert_to: 'video-backgroundremover' };

  it('refuses a request without inputs (400), before looking at the parameters', () => {
    expect(request({}, [])).toEqual({
      ok: false,
      status: 400,
      error: 'No files: send them in the "files" field (or file[0], file[1], ...)',
    });
  });
  it('refuses bad parameters (400), naming them', () => {
    const verdict = request({ convert_to: 'nonsense' }, [stored('a.png', png)]);
    expect(verdict).toMatchObject({ ok: false, status: 400 });
    expect(verdict.ok ? '' : verdict.error).toMatch(/convert_to/);
    const bad = request({ ...imageFields, bg_type: 'plaid' }, [stored('a.png', png)]);
    expect(bad.ok ? '' : bad.error).toMatch(/bg_type/);
  });
  it('refuses a missing background (400) before the inputs', () => {
    expect(request({ ...imageFields, bg_type: 'image' }, [stored('a.mp4', mp4)])).toEqual({
      ok: false,
      status: 400,
      error: 'bg_image: bg_type=image needs a background image; send it as bg_image',
    });
  });
  it('refuses the wrong kinds per file and accepts the rest', () => {
    const verdict = request(imageFields, [stored('a.png', png), stored('b.mp4', mp4)]);
    expect(verdict).toMatchObject({
      ok: true,
      conversion: { kind: 'image' },
      inputs: [
        { ok: true, filename: 'a.png', durationSeconds: undefined },
        { ok: false, filename: 'b.mp4', status: 415 },
      ],
    });
  });
  it('gives probed videos their duration and refuses those their probe rules out', () => {
    const verdict = request(videoFields, [
      { ...stored('short.mp4', mp4), probe: { ok: true, info: videoInfo(5) } },
      { ...stored('hour.mp4', mp4), probe: { ok: true, info: videoInfo(3600) } },
      { ...stored('anim.gif', gif), probe: { ok: true, info: videoInfo(2) } },
    ]);
    expect(verdict).toMatchObject({
      ok: true,
      inputs: [
        { ok: true, durationSeconds: 5 },
        { ok: false, status: 413 },
        { ok: true, durationSeconds: 2 },
      ],
    });
  });
  it('ignores probes in image requests', () => {
    const verdict = request(imageFields, [
      {
        ...stored('a.gif', gif),
        probe: { ok: false, error: new BgRemoverError('corrupt_input', 'bad') },
      },
    ]);
    expect(verdict).toMatchObject({ ok: true, inputs: [{ ok: true }] });
  });
  it('refuses a request with no accepted input: 413 when all are too long, else 415', () => {
    const hour = {
      ...stored('hour.mp4', mp4),
      probe: { ok: true, info: videoInfo(3600) },
    } as const;
    expect(request(videoFields, [hour, hour])).toMatchObject({ ok: false, status: 413 });
    expect(request(videoFields, [hour, stored('a.png', png)])).toMatchObject({
      ok: false,
      status: 415,
    });
    const refused: CheckedFile = { ok: false, filename: 'x', status: 415, error: 'x is text' };
    expect(request(imageFields, [refused])).toEqual({ ok: false, status: 415, error: 'x is text' });
  });
});
