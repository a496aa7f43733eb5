import type { z } from 'zod';
import { BgRemoverError } from '../errors.js';
import {
  CONVERT_TO_IMAGE,
  CONVERT_TO_VIDEO,
  type ImageParams,
  imageParamsSchema,
} from './image-params.js';
import { type VideoParams, videoParamsSchema } from './video-params.js';

/** A request's parameters, tagged by what is being converted. */
export type ConversionParams =
  | { kind: 'image'; params: ImageParams }
  | { kind: 'video'; params: VideoParams };

/** One problem with one field, as shown to a person. */
export interface ParamProblem {
  field: string;
  message: string;
}

/** Thrown for invalid parameters; `problems` lists every bad field, `message` joins them. */
export class ParamError extends BgRemoverError {
  readonly problems: readonly ParamProblem[];

  constructor(problems: readonly ParamProblem[]) {
    const text = problems.map((problem) => `${problem.field}: ${problem.message}`).join('; ');
    super('invalid_parameter', `Invalid parameter ${text}`, { field: problems[0]?.field });
    this.name = 'ParamError';
    this.problems = problems;
  }
}

function parseWith<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  throw new ParamError(
    result.error.issues.map((issue) => ({
      field: issue.path.length > 0 ? issue.path.join('.') : '(parameters)',
      message: issue.message,
    })),
  );
}

/**
 * Validates image parameters (typed values or form strings) and fills in the protocol's defaults.
 * Unknown fields (such as `lang`) are ignored. Throws `ParamError` naming each bad field.
 */
export function parseImageParams(input: unknown): ImageParams {
  return parseWith(imageParamsSchema, input);
}

/**
 * Validates video parameters (typed values or form strings) and fills in the protocol's defaults.
 * Unknown fields are ignored. Throws `ParamError` naming each bad field.
 */
export function parseVideoParams(input: unknown): VideoParams {
  const params = parseWith(videoParamsSchema, input);
  const problems = imageOnlyOptionProblems(input);
  if (problems.length > 0) throw new ParamError(problems);
  return params;
}

/** Form values that mean "yes" for a boolean field. */
const TRUTHY = new Set(['true', '1', 'yes', 'on']);

/**
 * The image table's output options sent with a video, each with the `video_format` that does
 * the same for video: they are refused rather than silently ignored. Parsed video params (which
 * hold none of these fields) pass unchanged.
 */
function imageOnlyOptionProblems(input: unknown): ParamProblem[] {
  if (typeof input !== 'object' || input === null) return [];
  const raw = input as Record<string, unknown>;
  const text = (value: unknown) => (value === undefined || value === null ? '' : String(value));
  const problems: ParamProblem[] = [];
  const onlyMask = raw.only_mask;
  if (onlyMask === true || TRUTHY.has(text(onlyMask).trim().toLowerCase())) {
    problems.push({
      field: 'only_mask',
      message: "is an image option; a video's mask is video_format=mattekey",
    });
  }
  const bgType = text(raw.bg_type).trim().toLowerCase();
  if (bgType === 'color' || text(raw.bg_color_value).trim() !== '') {
    problems.push({
      field: raw.bg_color_value === undefined ? 'bg_type' : 'bg_color_value',
      message:
        'is an image option; a video over a colour is video_format=mp4_with_color with video_bg_color (or video_bg_color_enabled=true with mov or webm)',
    });
  } else if (bgType === 'image') {
    problems.push({
      field: 'bg_type',
      message:
        'is an image option; a video over a picture is video_format=video_over_image (or gif_with_bg) with bg_image',
    });
  }
  return problems;
}

/**
 * Validates a whole request's parameters, choosing the image or video table by the required
 * `convert_to` field. Throws `ParamError` when `convert_to` is missing or unknown.
 */
export function parseConversionParams(input: Record<string, unknown>): ConversionParams {
  const convertTo = typeof input.convert_to === 'string' ? input.convert_to.trim() : undefined;
  if (convertTo === CONVERT_TO_IMAGE) return { kind: 'image', params: parseImageParams(input) };
  if (convertTo === CONVERT_TO_VIDEO) return { kind: 'video', params: parseVideoParams(input) };
  throw new ParamError([
    {
      field: 'convert_to',
      message: `is required and must be ${CONVERT_TO_IMAGE} or ${CONVERT_TO_VIDEO} (got ${JSON.stringify(input.convert_to ?? null)})`,
    },
  ]);
}
