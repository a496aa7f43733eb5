import {
  CONVERT_TO_IMAGE,
  CONVERT_TO_VIDEO,
  ParamError,
  parseImageParams,
  parseVideoParams,
  type VideoFormat,
  videoBackgroundOf,
  videoFormats,
} from '@bgremover/core/contract';

/** What a person chose in `/removebg` (all optional; the context menu and reaction choose none). */
export interface ChosenOptions {
  model?: string | undefined;
  format?: string | undefined;
  alphaMatting?: boolean | undefined;
  onlyMask?: boolean | undefined;
  bgColor?: string | undefined;
  /** Whether a bg_image attachment came with the command. */
  hasBackground?: boolean;
}

export type ParamsOutcome =
  | { ok: true; params: Record<string, unknown> }
  | { ok: false; problem: string };

/** The formats that take a background (bg_image), for messages. */
const formatsWithBackground = videoFormats.filter(
  (format) => videoBackgroundOf(format) !== undefined,
);

/** Core's field names, as the option a Discord user typed. */
const optionNameOf: Record<string, string> = {
  bg_color_value: 'bg_color',
  video_bg_color: 'bg_color',
  video_format: 'format',
};

/**
 * Turns the chosen options into the protocol's parameters for a picture or a clip and validates
 * them with core's schemas. A problem names the option as the person typed it, e.g.
 * `bg_color: must be a hex colour such as #00ff00 (got "red")`.
 */
export function buildJobParams(
  kind: 'image' | 'video',
  chosen: ChosenOptions,
  defaultVideoFormat: VideoFormat,
): ParamsOutcome {
  const raw = kind === 'image' ? imageRequest(chosen) : videoRequest(chosen, defaultVideoFormat);
  if (!raw.ok) return raw;
  try {
    if (kind === 'image') parseImageParams(raw.params);
    else parseVideoParams(raw.params);
    return raw;
  } catch (error) {
    if (!(error instanceof ParamError)) throw error;
    const problems = error.problems.map(
      (problem) => `${optionNameOf[problem.field] ?? problem.field}: ${problem.message}`,
    );
    return { ok: false, problem: problems.join('; ') };
  }
}

function imageRequest(chosen: ChosenOptions): ParamsOutcome {
  if (chosen.format !== undefined) {
    return { ok: false, problem: 'format: applies to videos only, and this file is a picture' };
  }
  if (chosen.bgColor !== undefined && chosen.hasBackground) {
    return { ok: false, problem: 'bg_color and bg_image: give one background, not both' };
  }
  const bgType = chosen.hasBackground
    ? 'image'
    : chosen.bgColor !== undefined
      ? 'color'
      : undefined;
  return {
    ok: true,
    params: compact({
      convert_to: CONVERT_TO_IMAGE,
      model: chosen.model,
      alpha_matting: chosen.alphaMatting,
      only_mask: chosen.onlyMask,
      bg_type: bgType,
      bg_color_value: chosen.bgColor,
    }),
  };
}

function videoRequest(chosen: ChosenOptions, defaultVideoFormat: VideoFormat): ParamsOutcome {
  if (chosen.onlyMask && chosen.format !== undefined && chosen.format !== 'mattekey') {
    return {
      ok: false,
      problem: `only_mask: for videos the mask is the mattekey format (got format ${chosen.format})`,
    };
  }
  const format = chosen.onlyMask ? 'mattekey' : (chosen.format ?? defaultVideoFormat);
  const needsBackground = (formatsWithBackground as readonly string[]).includes(format);
  if (needsBackground && !chosen.hasBackground) {
    return { ok: false, problem: `format ${format}: needs a background, add it as bg_image` };
  }
  if (!needsBackground && chosen.hasBackground) {
    return {
      ok: false,
      problem: `bg_image: used only with the formats ${formatsWithBackground.join(', ')} (got ${format})`,
    };
  }
  return {
    ok: true,
    params: compact({
      convert_to: CONVERT_TO_VIDEO,
      model: chosen.model,
      video_format: format,
      alpha_matting: chosen.alphaMatting,
      video_bg_color_enabled: chosen.bgColor !== undefined ? true : undefined,
      video_bg_color: chosen.bgColor,
    }),
  };
}

function compact(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined));
}
