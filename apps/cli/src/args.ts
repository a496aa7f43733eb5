import { parseArgs } from 'node:util';
import type { ImageParamsInput, VideoParamsInput } from '@bgremover/core';

/** What the command line asked for. */
export type CliCommand =
  | { kind: 'help' }
  | { kind: 'models-list' }
  | { kind: 'models-pull'; names: string[]; baseUrl: string | undefined }
  | {
      kind: 'remove';
      inputs: string[];
      outputDir: string | undefined;
      params: ImageParamsInput;
      videoParams: VideoParamsInput;
      backgroundImage: string | undefined;
      backgroundVideo: string | undefined;
      quiet: boolean;
      /** Show progress bars even when stderr is not a terminal. */
      progress: boolean;
      /** Print the stack of unexpected errors. */
      debug: boolean;
    };

/** Thrown for command lines that cannot be understood; main prints it with the usage. */
export class UsageError extends Error {}

export const usage = `Usage:
  removebg [options] <file-or-folder>...   remove backgrounds, writing <name>_processed.<ext>
  removebg models list                     show the models and whether they are installed
  removebg models pull <name>... [--url U] download and verify models (u2net, u2net_human_seg, u2netp)

Options (named after the API's parameters):
  -o, --output DIR        write results to DIR instead of next to each input
      --model NAME        u2net, u2net_human_seg or u2netp (default: u2net if installed, else u2netp)
      --alpha-matting     refine edges with alpha matting (boolean, see below)
      --alpha-fg N        foreground threshold 0-255 (default 240)
      --alpha-bg N        background threshold 0-255 (default 10)
      --alpha-erode N     edge erosion 1-25 (default 10)
      --alpha-base-size N matting working size (default 1000)
      --only-mask         write the black/white mask instead of the cut-out
      --bg-type TYPE      transparent, color or image (default transparent)
      --bg-color HEX      background colour, e.g. #ffffff (implies --bg-type color)
      --bg-image FILE     background picture (implies --bg-type image; videos: video_over_image, gif_with_bg)

Video options (files .mp4 .mov .webm .mkv .avi, animated GIFs, or anything that sniffs as video):
      --video-format F    mov (ProRes 4444 + alpha, default), webm (VP9 + alpha), gif, mattekey,
                          mp4_with_color, video_over_image, video_over_video, gif_with_bg
      --framerate N       output frames per second 1-60 (resampled; default: the source's)
      --frame-limit N     process and write only the first N frames
      --video-bg-color HEX   background colour (default #00ff00); with mov, webm or gif it
                          implies --video-bg-color-enabled
      --video-bg-color-enabled  compose any format over --video-bg-color
      --bg-video FILE     background video for video_over_video (cover-fitted, looped)

  -q, --quiet             print only errors
      --progress          show progress bars even when stderr is not a terminal
      --debug             print the stack of unexpected errors
  -h, --help              show this help

Boolean options (--alpha-matting, --only-mask, --video-bg-color-enabled, --quiet, --progress,
--debug) are on with --flag or --flag=true and off with --no-flag or --flag=false; the value may
also be 1/0, yes/no or on/off. "--flag true" and "--flag false" are read as the value too, so
name a file called true or false as ./false (or after --). --flag=VALUE is the unambiguous form.

Folders are searched recursively for .jpg .jpeg .png .webp .gif .tif .tiff .avif images and
.mp4 .mov .webm .mkv .avi .m4v videos (skipping earlier *_processed, *_mask and *_matte results
and symbolic links). Videos are written as <name>_processed.<mov|webm|gif|mp4> (mattekey:
<name>_matte.mp4) with a frame progress bar on a terminal. A name that would be longer than 255
bytes is cut before the suffix, and the summary says so.

A file that fails (unreadable, not a regular file, not an image, an encoder error...) is
reported with its reason and the rest of the batch goes on; the last line counts what was done
and what failed, and the exit code is 1 when anything failed (2 for a bad command line).`;

/** The boolean options, by long name; each also has a `--no-` form. */
const BOOLEAN_OPTIONS = [
  'alpha-matting',
  'only-mask',
  'video-bg-color-enabled',
  'quiet',
  'progress',
  'debug',
  'help',
] as const;
type BooleanOption = (typeof BOOLEAN_OPTIONS)[number];

/** The options that take a value, by long name. */
const STRING_OPTIONS = [
  'output',
  'model',
  'alpha-fg',
  'alpha-bg',
  'alpha-erode',
  'alpha-base-size',
  'bg-type',
  'bg-color',
  'bg-color-value',
  'bg-image',
  'video-format',
  'framerate',
  'frame-limit',
  'video-bg-color',
  'bg-video',
] as const;
type StringOption = (typeof STRING_OPTIONS)[number];

/** One-letter forms (`-o DIR`, `-q`, `-h`). */
const SHORT_FORMS: Partial<Record<StringOption | BooleanOption, string>> = {
  output: 'o',
  quiet: 'q',
  help: 'h',
};

type OptionSpec<T extends 'string' | 'boolean'> = { type: T; short?: string };

/** What `parseArgs` is told: every option, each boolean also in its `--no-` form. */
const REMOVE_OPTIONS = Object.fromEntries([
  ...STRING_OPTIONS.map((name) => [name, spec('string', SHORT_FORMS[name])]),
  ...BOOLEAN_OPTIONS.flatMap((name) => [
    [name, spec('boolean', SHORT_FORMS[name])],
    [`no-${name}`, spec('boolean', undefined)],
  ]),
]) as Record<StringOption, OptionSpec<'string'>> &
  Record<BooleanOption | `no-${BooleanOption}`, OptionSpec<'boolean'>>;

function spec<T extends 'string' | 'boolean'>(type: T, short: string | undefined): OptionSpec<T> {
  return short === undefined ? { type } : { type, short };
}

const TRUE_WORDS = new Set(['true', '1', 'yes', 'on']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'off']);
/** The boolean flags' one-letter forms (alone in their argument, not grouped like -qh). */
const SHORT_BOOLEANS = new Map<string, BooleanOption>([
  ['-q', 'quiet'],
  ['-h', 'help'],
]);
/** Words taken as a boolean flag's value when they follow it as the next argument. */
const SEPARATE_BOOLEAN_WORDS = new Set(['true', 'false']);

/** Turns argv (without node and the script) into a command. Throws `UsageError` when unclear. */
export function parseCommandLine(argv: readonly string[]): CliCommand {
  if (argv[0] === 'models') return parseModelsCommand(argv.slice(1));
  let parsed: ReturnType<typeof parseRemoveArgs>;
  try {
    parsed = parseRemoveArgs(normalizeBooleanFlags(argv));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals, tokens } = parsed;
  const flags = booleanValues(tokens);
  if (flags.help) return { kind: 'help' };
  if (positionals.length === 0) throw new UsageError('Give at least one file or folder.');
  const shared = {
    model: values.model,
    alpha_matting: flags['alpha-matting'],
    alpha_fg: values['alpha-fg'],
    alpha_bg: values['alpha-bg'],
    alpha_erode: values['alpha-erode'],
    alpha_base_size: values['alpha-base-size'],
  };
  const params: ImageParamsInput = {
    ...shared,
    only_mask: flags['only-mask'],
    bg_type:
      values['bg-type'] ??
      impliedBackgroundType(values['bg-color'] ?? values['bg-color-value'], values['bg-image']),
    bg_color_value: values['bg-color'] ?? values['bg-color-value'],
  };
  const videoFormat = values['video-format'];
  const videoParams: VideoParamsInput = {
    ...shared,
    video_format: videoFormat,
    framerate: values.framerate,
    frame_limit: values['frame-limit'],
    video_bg_color: values['video-bg-color'],
    video_bg_color_enabled:
      flags['video-bg-color-enabled'] ??
      (values['video-bg-color'] !== undefined && transparentFormat(videoFormat) ? true : undefined),
  };
  return {
    kind: 'remove',
    inputs: positionals,
    outputDir: values.output,
    params,
    videoParams,
    backgroundImage: values['bg-image'],
    backgroundVideo: values['bg-video'],
    quiet: flags.quiet ?? false,
    progress: flags.progress ?? false,
    debug: flags.debug ?? false,
  };
}

/**
 * Rewrites the long forms of boolean flags that `parseArgs` does not take into `--flag` and
 * `--no-flag`: `--flag=VALUE` (true/false, 1/0, yes/no, on/off) and `--flag true|false` (the
 * word is the flag's value, not a file). `--no-flag=VALUE` and unknown values are refused.
 * Nothing after `--` is touched.
 */
export function normalizeBooleanFlags(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const short = SHORT_BOOLEANS.get(arg);
    const match = /^--(no-)?([^=]+)(?:=(.*))?$/s.exec(short === undefined ? arg : `--${short}`);
    const name = match?.[2];
    if (!match || name === undefined || !isBooleanOption(name)) {
      out.push(arg);
      continue;
    }
    const negated = match[1] !== undefined;
    const inline = match[3];
    if (negated) {
      if (inline !== undefined) {
        throw new UsageError(
          `Option '--no-${name}' takes no value: write --no-${name} or --${name}=${inline}`,
        );
      }
      out.push(`--no-${name}`);
      continue;
    }
    let value = true;
    if (inline !== undefined) value = booleanWord(name, inline);
    else {
      const next = argv[i + 1];
      if (next !== undefined && SEPARATE_BOOLEAN_WORDS.has(next.toLowerCase())) {
        value = booleanWord(name, next);
        i++;
      }
    }
    out.push(value ? `--${name}` : `--no-${name}`);
  }
  return out;
}

function isBooleanOption(name: string): name is BooleanOption {
  return (BOOLEAN_OPTIONS as readonly string[]).includes(name);
}

function booleanWord(name: string, word: string): boolean {
  const lower = word.trim().toLowerCase();
  if (TRUE_WORDS.has(lower)) return true;
  if (FALSE_WORDS.has(lower)) return false;
  throw new UsageError(
    `Option '--${name}' is a switch: give true or false (also 1/0, yes/no, on/off), got ${JSON.stringify(word)}`,
  );
}

/** Each boolean flag's last word on the command line (`-q` counts as `--quiet`). */
function booleanValues(
  tokens: ReturnType<typeof parseRemoveArgs>['tokens'],
): Partial<Record<BooleanOption, boolean>> {
  const flags: Partial<Record<BooleanOption, boolean>> = {};
  for (const token of tokens) {
    if (token.kind !== 'option') continue;
    const negated = token.name.startsWith('no-');
    const name = negated ? token.name.slice(3) : token.name;
    if (isBooleanOption(name)) flags[name] = !negated;
  }
  return flags;
}

function parseRemoveArgs(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    tokens: true,
    options: REMOVE_OPTIONS,
  });
}

/** Formats whose output is transparent unless a colour is asked for (the default is mov). */
function transparentFormat(format: string | undefined): boolean {
  const name = format?.trim().toLowerCase();
  return name === undefined || name === '' || name === 'mov' || name === 'webm' || name === 'gif';
}

function impliedBackgroundType(
  color: string | undefined,
  image: string | undefined,
): 'color' | 'image' | undefined {
  if (image !== undefined) return 'image';
  if (color !== undefined) return 'color';
  return undefined;
}

function parseModelsCommand(argv: readonly string[]): CliCommand {
  const [action, ...rest] = argv;
  if (action === 'list') return { kind: 'models-list' };
  if (action === 'pull') {
    try {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: { url: { type: 'string' } },
      });
      if (positionals.length === 0) throw new Error('Name the model(s) to pull.');
      return { kind: 'models-pull', names: positionals, baseUrl: values.url };
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
  }
  throw new UsageError(`Unknown models action ${JSON.stringify(action ?? '')}: use list or pull.`);
}
