import { z } from 'zod';
import { modelNames } from '../models/registry.js';
import { formBoolean, formEnum, formHexColor, formInteger } from './form-fields.js';

/** What the protocol's `convert_to` says for images and for videos. */
export const CONVERT_TO_IMAGE = 'image-backgroundremover';
export const CONVERT_TO_VIDEO = 'video-backgroundremover';

/**
 * The `convert_to` field of a parameter table: `value` or left out (then `value`); anything else
 * is refused as not for `kind` (images, videos).
 */
export function convertToField<const Value extends string>(value: Value, kind: string) {
  return z
    .literal(value, {
      error: (issue) => `must be ${value} for ${kind} (got ${JSON.stringify(issue.input)})`,
    })
    .default(value);
}

export const backgroundTypes = ['transparent', 'color', 'image'] as const;
export type BackgroundType = (typeof backgroundTypes)[number];

/**
 * `model`: left out means "the server's default" (u2net when installed, else u2netp), resolved
 * when the job runs, so this schema leaves it undefined rather than inventing one.
 */
export const modelField = z.preprocess(
  (raw) => (typeof raw === 'string' ? raw.trim().toLowerCase() || undefined : (raw ?? undefined)),
  z
    .enum(modelNames, {
      error: (issue) =>
        `must be one of ${modelNames.join(', ')} (got ${JSON.stringify(issue.input)})`,
    })
    .optional(),
);

/** The alpha-matting fields, shared by images and video, as the protocol's tables define them. */
export const alphaMattingFields = {
  alpha_matting: formBoolean(false),
  alpha_fg: formInteger(0, 255, 240),
  alpha_bg: formInteger(0, 255, 10),
  alpha_erode: formInteger(1, 25, 10),
  alpha_base_size: formInteger(32, 8192, 1000),
};

/** Rejects a matting threshold pair that leaves no room between background and foreground. */
export function checkThresholdOrder(
  params: { alpha_fg: number; alpha_bg: number },
  ctx: z.RefinementCtx,
): void {
  if (params.alpha_bg >= params.alpha_fg) {
    ctx.addIssue({
      code: 'custom',
      path: ['alpha_bg'],
      message: `must be below alpha_fg (got alpha_bg ${params.alpha_bg}, alpha_fg ${params.alpha_fg})`,
    });
  }
}

/** The protocol's "Image Processing Parameters" table, with its defaults and ranges. */
export const imageParamsSchema = z
  .object({
    convert_to: convertToField(CONVERT_TO_IMAGE, 'images'),
    model: modelField,
    ...alphaMattingFields,
    only_mask: formBoolean(false),
    bg_type: formEnum(backgroundTypes, 'transparent'),
    bg_color_value: formHexColor('#ffffff'),
  })
  .superRefine(checkThresholdOrder);

/** Image parameters after parsing: typed, defaulted, validated. */
export type ImageParams = z.output<typeof imageParamsSchema>;
/** Image parameters as a caller may give them (form strings or typed values, all optional). */
export type ImageParamsInput = z.input<typeof imageParamsSchema>;
