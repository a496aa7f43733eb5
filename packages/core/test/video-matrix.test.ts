/**
 * Every video_format against plain removal, alpha matting and a colour background (and its own
 * background picture or video where it takes one), checked by the pixels of each written frame:
 * the subject keeps its colour where the output is opaque, the background is clear where it must
 * be, and composed formats show their background colour or picture.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  closeMattingWorker,
  removeVideoBackground,
  type VideoFormat,
  type VideoParamsInput,
} from '../src/index.js';
import {
  clip,
  decodeFrame,
  type RegionExpectation,
  regionMismatch,
  useVideoFixtures,
} from './video-helpers.js';

const fixtures = useVideoFixtures('video-matrix', [closeMattingWorker]);

const FRAMES = 3;
/** The subject's colour in the source (#dc2828). */
const SUBJECT: RegionExpectation = { kind: 'opaque', rgb: [220, 40, 40], tolerance: 40 };
const CLEAR: RegionExpectation = { kind: 'clear' };
/** The banded picture's middle band, which cover-fit shows behind the whole frame. */
const BLUE_BAND: RegionExpectation = { kind: 'opaque', rgb: [0, 0, 255], tolerance: 45 };

type Variant = 'plain' | 'alpha_matting' | 'colour background';

interface Case {
  format: VideoFormat;
  variant: Variant;
  params: VideoParamsInput;
  inside: RegionExpectation;
  outside: RegionExpectation;
}

const extensionOf: Record<VideoFormat, string> = {
  mov: 'mov',
  webm: 'webm',
  gif: 'gif',
  gif_with_bg: 'gif',
  mattekey: 'mp4',
  mp4_with_color: 'mp4',
  video_over_image: 'mp4',
  video_over_video: 'mp4',
};

/** What the background looks like in each format's output, for a variant. */
function outsideOf(format: VideoFormat, variant: Variant): RegionExpectation {
  if (format === 'mattekey') return { kind: 'grey', white: false };
  if (format === 'video_over_image' || format === 'gif_with_bg' || format === 'video_over_video')
    return BLUE_BAND;
  if (format === 'mp4_with_color') {
    return variant === 'colour background'
      ? { kind: 'opaque', rgb: [0, 0, 255], tolerance: 45 }
      : { kind: 'opaque', rgb: [0, 255, 0], tolerance: 45 };
  }
  return variant === 'colour background'
    ? { kind: 'opaque', rgb: [0, 0, 255], tolerance: 45 }
    : CLEAR;
}

const cases: Case[] = [];
for (const format of Object.keys(extensionOf) as VideoFormat[]) {
  const variants: Variant[] = ['plain', 'alpha_matting'];
  // A colour background applies where the output is the cut-out or already a colour.
  if (['mov', 'webm', 'gif', 'mp4_with_color'].includes(format)) variants.push('colour background');
  for (const variant of variants) {
    const params: VideoParamsInput = { model: 'u2netp', video_format: format, frame_limit: FRAMES };
    if (variant === 'alpha_matting') params.alpha_matting = true;
    if (variant === 'colour background') {
      params.video_bg_color_enabled = true;
      params.video_bg_color = '#0000ff';
    }
    cases.push({
      format,
      variant,
      params,
      inside: format === 'mattekey' ? { kind: 'grey', white: true } : SUBJECT,
      outside: outsideOf(format, variant),
    });
  }
}

describe('every video_format x {plain, alpha_matting, colour background}, by the pixels', () => {
  it.each(cases.map((c) => [`${c.format} / ${c.variant}`, c] as const))(
    '%s',
    async (_name, testCase) => {
      const result = await removeVideoBackground(fixtures.source, testCase.params, {
        config: fixtures.config,
        outputPath: join(
          fixtures.work.path,
          `${testCase.format}-${testCase.variant.replace(/\W/g, '_')}.${extensionOf[testCase.format]}`,
        ),
        ...(testCase.format === 'video_over_video'
          ? { backgroundVideo: fixtures.backgroundVideo }
          : {}),
        ...(['video_over_image', 'gif_with_bg'].includes(testCase.format)
          ? { backgroundImage: fixtures.picture }
          : {}),
      });
      expect(result.frames).toBe(FRAMES);
      for (let n = 0; n < FRAMES; n++) {
        const frame = await decodeFrame(result.path, n, clip.width, clip.height);
        const mismatch = regionMismatch(frame, n, testCase.inside, testCase.outside);
        // A few pixels may differ (chroma subsampling, GIF palettes, a soft model); a broken
        // pipeline (black subject, no alpha, wrong background) misses nearly all of them.
        expect(mismatch.inside, `subject, frame ${n}: ${mismatch.example}`).toBeLessThan(0.03);
        expect(mismatch.outside, `background, frame ${n}: ${mismatch.example}`).toBeLessThan(0.03);
      }
    },
  );
});
