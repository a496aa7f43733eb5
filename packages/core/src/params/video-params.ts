import { z } from 'zod';
import { formBoolean, formEnum, formHexColor, optionalFormInteger } from './form-fields.js';
import {
  alphaMattingFields,
  CONVERT_TO_VIDEO,
  checkThresholdOrder,
  convertToField,
  modelField,
} from './image-params.js';

/** The protocol's seven video formats, plus `webm` (VP9 with alpha, ours). */
export const videoFormats = [
  'mov',
  'mattekey',
  'gif',
  'video_over_image',
  'video_over_video',
  'gif_with_bg',
  'mp4_with_color',
  'webm',
] as const;
export type VideoFormat = (typeof videoFormats)[number];

/**
 * The background a video format composes the subject over and must be sent with it: a picture
 * (`bg_image`) for video_over_image and gif_with_bg, a video (`bg_video`) for video_over_video,
 * none for the others. The one place this rule lives.
 */
export function videoBackgroundOf(format: VideoFormat): 'image' | 'video' | undefined {
  if (format === 'video_over_video') return 'video';
  if (format === 'video_over_image' || format === 'gif_with_bg') return 'image';
  return undefined;
}

/** The protocol's "Video Processing Parameters" table, with its defaults and ranges. */
export const videoParamsSchema = z
  .object({
    convert_to: convertToField(CONVERT_TO_VIDEO, 'videos'),
    model: modelField,
    video_format: formEnum(videoFormats, 'mov'),
    ...alphaMattingFields,
    video_bg_color_enabled: formBoolean(false),
    video_bg_color: formHexColor('#00ff00'),
    /** Output frames per second; undefined (or "auto") keeps the source's rate. */
    framerate: optionalFormInteger(1, 60, ['auto']),
    /** Process and write only the first N frames; undefined (or "none") means all. */
    frame_limit: optionalFormInteger(1, 1_000_000, ['none', 'all']),
  })
  .superRefine(checkThresholdOrder);

/** Video parameters after parsing: typed, defaulted, validated. */
export type VideoParams = z.output<typeof videoParamsSchema>;
/** Video parameters as a caller may give them (form strings or typed values, all optional). */
export type VideoParamsInput = z.input<typeof videoParamsSchema>;
