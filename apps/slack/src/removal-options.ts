import {
  CONVERT_TO_IMAGE,
  CONVERT_TO_VIDEO,
  type ModelName,
  modelNames,
  parseHexColor,
  parseImageParams,
  parseVideoParams,
  type VideoFormat,
} from '@bgremover/core/contract';

/**
 * The video formats offered in Slack: those that need no second file (a background picture or
 * video cannot be attached to a shortcut).
 */
export const slackVideoFormats = [
  'mov',
  'webm',
  'gif',
  'mattekey',
  'mp4_with_color',
] as const satisfies readonly VideoFormat[];
export type SlackVideoFormat = (typeof slackVideoFormats)[number];

/** What a person can choose in Slack. Everything left out means the server's default. */
export interface RemovalOptions {
  model?: ModelName | undefined;
  videoFormat?: SlackVideoFormat | undefined;
  alphaMatting?: boolean | undefined;
  onlyMask?: boolean | undefined;
  /** `#rrggbb` (or any form core accepts): the subject over this colour instead of transparency. */
  backgroundColor?: string | undefined;
}

/** A choice that is not valid, naming the option (`field`) and the problem. */
export class OptionError extends Error {
  constructor(
    readonly field: keyof RemovalOptions,
    message: string,
  ) {
    super(message);
    this.name = 'OptionError';
  }
}

/** The model named by `text`, or an OptionError listing the models. */
export function parseModel(text: string): ModelName {
  return oneOf(text, modelNames, 'model', 'model');
}

/** The video format named by `text`, or an OptionError listing those Slack offers. */
export function parseVideoFormat(text: string): SlackVideoFormat {
  return oneOf(text, slackVideoFormats, 'videoFormat', 'video format');
}

/** The entry of `names` that `text` names (trimmed, any case), or an OptionError listing them. */
function oneOf<T extends string>(
  text: string,
  names: readonly T[],
  field: keyof RemovalOptions,
  noun: string,
): T {
  const name = text.trim().toLowerCase();
  const found = names.find((entry) => entry === name);
  if (!found) {
    throw new OptionError(field, `Unknown ${noun} "${text}"; choose one of ${names.join(', ')}`);
  }
  return found;
}

/** Checks a background colour as core will, throwing an OptionError that shows the forms allowed. */
export function checkBackgroundColor(text: string): string {
  const value = text.trim();
  try {
    parseHexColor(value);
  } catch {
    throw new OptionError(
      'backgroundColor',
      `"${text}" is not a colour; write it as hex, e.g. #ffffff, #fff or #00ff0080`,
    );
  }
  return value.startsWith('#') ? value : `#${value}`;
}

/**
 * The job parameters for one file, validated by core's schemas exactly as the API's are. For a
 * video, "only the mask" means the mattekey format; a background colour means the subject over
 * that colour in both pipelines.
 */
export function jobParams(
  options: RemovalOptions,
  mediaKind: 'image' | 'video',
): Record<string, unknown> {
  const color = options.backgroundColor;
  if (mediaKind === 'image') {
    return parseImageParams({
      convert_to: CONVERT_TO_IMAGE,
      model: options.model,
      alpha_matting: options.alphaMatting ?? false,
      only_mask: options.onlyMask ?? false,
      ...(color ? { bg_type: 'color', bg_color_value: color } : {}),
    });
  }
  return parseVideoParams({
    convert_to: CONVERT_TO_VIDEO,
    model: options.model,
    video_format: options.onlyMask ? 'mattekey' : (options.videoFormat ?? 'mov'),
    alpha_matting: options.alphaMatting ?? false,
    ...(color ? { video_bg_color_enabled: true, video_bg_color: color } : {}),
  });
}
