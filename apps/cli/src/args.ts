import { parseArgs } from 'node:util';
import type { ImageParamsInput } from '@bgremover/core';

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
      backgroundImage: string | undefined;
      quiet: boolean;
    };

/** Thrown for command lines that cannot be understood; main prints it with the usage. */
export class UsageError extends Error {}

export const usage = `Usage:
  removebg [options] <file-or-folder>...   remove backgrounds, writing <name>_processed.png
  removebg models list                     show the models and whether they are installed
  removebg models pull <name>... [--url U] download and verify models (u2net, u2net_human_seg, u2netp)

Options (named after the API's parameters):
  -o, --output DIR        write results to DIR instead of next to each input
      --model NAME        u2net, u2net_human_seg or u2netp (default: u2net if installed, else u2netp)
      --alpha-matting     refine edges with alpha matting
      --alpha-fg N        foreground threshold 0-255 (default 240)
      --alpha-bg N        background threshold 0-255 (default 10)
      --alpha-erode N     edge erosion 1-25 (default 10)
      --alpha-base-size N matting working size (default 1000)
      --only-mask         write the black/white mask instead of the cut-out
      --bg-type TYPE      transparent, color or image (default transparent)
      --bg-color HEX      background colour, e.g. #ffffff (implies --bg-type color)
      --bg-image FILE     background picture (implies --bg-type image)
  -q, --quiet             print only errors
  -h, --help              show this help

Folders are searched recursively for .jpg .jpeg .png .webp .gif .tif .tiff .avif files
(skipping earlier *_processed.png and *_mask.png results).`;

/** Turns argv (without node and the script) into a command. Throws `UsageError` when unclear. */
export function parseCommandLine(argv: readonly string[]): CliCommand {
  if (argv[0] === 'models') return parseModelsCommand(argv.slice(1));
  let parsed: ReturnType<typeof parseRemoveArgs>;
  try {
    parsed = parseRemoveArgs(argv);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return { kind: 'help' };
  if (positionals.length === 0) throw new UsageError('Give at least one file or folder.');
  const params: ImageParamsInput = {
    model: values.model,
    alpha_matting: values['alpha-matting'],
    alpha_fg: values['alpha-fg'],
    alpha_bg: values['alpha-bg'],
    alpha_erode: values['alpha-erode'],
    alpha_base_size: values['alpha-base-size'],
    only_mask: values['only-mask'],
    bg_type:
      values['bg-type'] ??
      impliedBackgroundType(values['bg-color'] ?? values['bg-color-value'], values['bg-image']),
    bg_color_value: values['bg-color'] ?? values['bg-color-value'],
  };
  return {
    kind: 'remove',
    inputs: positionals,
    outputDir: values.output,
    params,
    backgroundImage: values['bg-image'],
    quiet: values.quiet ?? false,
  };
}

function parseRemoveArgs(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      output: { type: 'string', short: 'o' },
      model: { type: 'string' },
      'alpha-matting': { type: 'boolean' },
      'alpha-fg': { type: 'string' },
      'alpha-bg': { type: 'string' },
      'alpha-erode': { type: 'string' },
      'alpha-base-size': { type: 'string' },
      'only-mask': { type: 'boolean' },
      'bg-type': { type: 'string' },
      'bg-color': { type: 'string' },
      'bg-color-value': { type: 'string' },
      'bg-image': { type: 'string' },
      quiet: { type: 'boolean', short: 'q' },
      help: { type: 'boolean', short: 'h' },
    },
  });
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
