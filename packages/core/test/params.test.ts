import { describe, expect, it } from 'vitest';
import {
  formatHexColor,
  modelNames,
  ParamError,
  parseConversionParams,
  parseHexColor,
  parseImageParams,
  parseVideoParams,
  videoFormats,
} from '../src/index.js';

function problemOf(run: () => unknown): { field: string; message: string } {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ParamError);
    const problem = (error as ParamError).problems[0];
    if (!problem) throw new Error('ParamError without problems');
    return problem;
  }
  throw new Error('expected a ParamError');
}

/** Expects `run` to throw a ParamError whose first problem names `field` and says `message`. */
function expectProblem(run: () => unknown, field: string, message: string): void {
  const problem = problemOf(run);
  expect(problem.field).toBe(field);
  expect(problem.message).toContain(message);
}

describe('image parameters', () => {
  it('fills in the seed defaults', () => {
    expect(parseImageParams({})).toEqual({
      convert_to: 'image-backgroundremover',
      model: undefined,
      alpha_matting: false,
      alpha_fg: 240,
      alpha_bg: 10,
      alpha_erode: 10,
      alpha_base_size: 1000,
      only_mask: false,
      bg_type: 'transparent',
      bg_color_value: '#ffffff',
    });
  });

  it('accepts the form strings the seed examples send', () => {
    const params = parseImageParams({
      lang: 'en',
      convert_to: 'image-backgroundremover',
      model: 'u2net',
      alpha_matting: 'true',
      alpha_fg: '240',
      alpha_bg: '10',
      alpha_erode: '10',
      alpha_base_size: '800',
      only_mask: 'false',
      bg_type: 'color',
      bg_color_value: '#FF0000',
    });
    expect(params).toMatchObject({
      model: 'u2net',
      alpha_matting: true,
      alpha_fg: 240,
      alpha_bg: 10,
      alpha_erode: 10,
      alpha_base_size: 800,
      only_mask: false,
      bg_type: 'color',
      bg_color_value: '#ff0000',
    });
    expect(params).not.toHaveProperty('lang');
  });

  it('accepts typed values and boolean words', () => {
    expect(parseImageParams({ alpha_matting: true, alpha_fg: 200 })).toMatchObject({
      alpha_matting: true,
      alpha_fg: 200,
    });
    for (const word of ['1', 'yes', 'on', 'TRUE']) {
      expect(parseImageParams({ only_mask: word }).only_mask).toBe(true);
    }
    for (const word of ['0', 'no', 'off', 'False']) {
      expect(parseImageParams({ only_mask: word }).only_mask).toBe(false);
    }
  });

  it('treats empty form fields as not given', () => {
    expect(parseImageParams({ alpha_fg: '', model: '', bg_color_value: '' })).toMatchObject({
      alpha_fg: 240,
      model: undefined,
      bg_color_value: '#ffffff',
    });
  });

  it('accepts every model name, case-insensitively', () => {
    for (const name of modelNames) {
      expect(parseImageParams({ model: name.toUpperCase() }).model).toBe(name);
    }
  });

  it.each([
    ['alpha_fg', '256', 'must be an integer from 0 to 255 (got 256)'],
    ['alpha_fg', '-1', 'must be an integer from 0 to 255 (got -1)'],
    ['alpha_bg', 'ten', 'must be an integer from 0 to 255 (got "ten")'],
    ['alpha_erode', '0', 'must be an integer from 1 to 25 (got 0)'],
    ['alpha_erode', '26', 'must be an integer from 1 to 25 (got 26)'],
    ['alpha_erode', '2.5', 'must be an integer from 1 to 25 (got 2.5)'],
    ['alpha_base_size', '10', 'must be an integer from 32 to 8192 (got 10)'],
    ['alpha_matting', 'maybe', 'must be true or false (got "maybe")'],
    ['only_mask', 'sure', 'must be true or false (got "sure")'],
    ['bg_type', 'gradient', 'must be one of transparent, color, image (got "gradient")'],
    ['bg_color_value', 'red', 'must be a hex colour such as #00ff00'],
    ['bg_color_value', '#12345', 'must be a hex colour such as #00ff00'],
    [
      'model',
      'u3net',
      'must be one of u2net, u2net_human_seg, u2netp, isnet-general-use, isnet, isnet_quint8 (got "u3net")',
    ],
    ['convert_to', 'video-backgroundremover', 'must be image-backgroundremover for images'],
  ])('rejects %s=%s naming the field and the allowed values', (field, value, message) => {
    expectProblem(() => parseImageParams({ [field]: value }), field, message);
  });

  it('rejects a background threshold at or above the foreground threshold', () => {
    expectProblem(
      () => parseImageParams({ alpha_fg: '100', alpha_bg: '150' }),
      'alpha_bg',
      'must be below alpha_fg',
    );
  });

  it('lists every bad field in one error', () => {
    try {
      parseImageParams({ alpha_fg: '999', bg_type: 'x' });
      expect.unreachable();
    } catch (error) {
      const fields = (error as ParamError).problems.map((problem) => problem.field);
      expect(fields).toEqual(expect.arrayContaining(['alpha_fg', 'bg_type']));
      expect((error as ParamError).message).toMatch(/alpha_fg: .*; bg_type: /);
      expect((error as ParamError).code).toBe('invalid_parameter');
    }
  });
});

describe('video parameters', () => {
  it('fills in the seed defaults', () => {
    expect(parseVideoParams({})).toEqual({
      convert_to: 'video-backgroundremover',
      model: undefined,
      video_format: 'mov',
      alpha_matting: false,
      alpha_fg: 240,
      alpha_bg: 10,
      alpha_erode: 10,
      alpha_base_size: 1000,
      video_bg_color_enabled: false,
      video_bg_color: '#00ff00',
      framerate: undefined,
      frame_limit: undefined,
    });
  });

  it('accepts every video format, framerate and frame_limit as form strings', () => {
    for (const format of videoFormats) {
      expect(parseVideoParams({ video_format: format }).video_format).toBe(format);
    }
    expect(
      parseVideoParams({
        framerate: '24',
        frame_limit: '120',
        video_bg_color_enabled: 'true',
        video_bg_color: '#0f0',
      }),
    ).toMatchObject({
      framerate: 24,
      frame_limit: 120,
      video_bg_color_enabled: true,
      video_bg_color: '#00ff00',
    });
    expect(parseVideoParams({ framerate: 'auto', frame_limit: 'none' })).toMatchObject({
      framerate: undefined,
      frame_limit: undefined,
    });
  });

  it.each([
    ['video_format', 'avi', 'must be one of mov, mattekey, gif'],
    ['framerate', '0', 'must be an integer from 1 to 60 (got 0)'],
    ['framerate', '61', 'must be an integer from 1 to 60 (got 61)'],
    ['frame_limit', '0', 'must be an integer from 1 to'],
    ['frame_limit', 'lots', 'must be an integer from 1 to'],
    ['video_bg_color', 'green', 'must be a hex colour'],
    ['video_bg_color_enabled', 'green', 'must be true or false'],
    ['alpha_erode', '30', 'must be an integer from 1 to 25'],
  ])('rejects %s=%s', (field, value, message) => {
    expectProblem(() => parseVideoParams({ [field]: value }), field, message);
  });
});

describe('convert_to dispatch', () => {
  it('chooses the image or video table', () => {
    expect(parseConversionParams({ convert_to: 'image-backgroundremover' }).kind).toBe('image');
    expect(parseConversionParams({ convert_to: 'video-backgroundremover' }).kind).toBe('video');
  });

  it('requires convert_to', () => {
    expectProblem(() => parseConversionParams({ model: 'u2netp' }), 'convert_to', 'is required');
  });
});

describe('hex colours', () => {
  it('parses #rgb, #rgba, #rrggbb and #rrggbbaa, with or without #', () => {
    expect(parseHexColor('#0f0')).toEqual({ r: 0, g: 255, b: 0, a: 255 });
    expect(parseHexColor('#0f08')).toEqual({ r: 0, g: 255, b: 0, a: 136 });
    expect(parseHexColor('81d4fa')).toEqual({ r: 0x81, g: 0xd4, b: 0xfa, a: 255 });
    expect(parseHexColor('#11223380')).toEqual({ r: 0x11, g: 0x22, b: 0x33, a: 0x80 });
    expect(formatHexColor({ r: 1, g: 2, b: 3, a: 255 })).toBe('#010203');
    expect(() => parseHexColor('#zzzzzz')).toThrow(/not a hex colour/);
  });
});

describe('image-only options sent with a video', () => {
  it('refuses each one, naming the option and the video_format that does it', () => {
    expect(() => parseVideoParams({ only_mask: 'true' })).toThrow(
      /only_mask: is an image option; a video's mask is video_format=mattekey/,
    );
    expect(() => parseVideoParams({ bg_type: 'color', bg_color_value: '#ff0000' })).toThrow(
      /bg_color_value: is an image option; a video over a colour is video_format=mp4_with_color/,
    );
    expect(() => parseVideoParams({ bg_type: 'image' })).toThrow(
      /bg_type: is an image option; a video over a picture is video_format=video_over_image/,
    );
  });

  it('accepts their "off" values, which change nothing', () => {
    expect(() =>
      parseVideoParams({ only_mask: 'false', bg_type: 'transparent', bg_color_value: '' }),
    ).not.toThrow();
  });
});
