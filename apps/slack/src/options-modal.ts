import { modelNames } from '@bgremover/core/contract';
import type { types, ViewOutput } from '@slack/bolt';
import { z } from 'zod';
import {
  checkBackgroundColor,
  OptionError,
  parseModel,
  parseVideoFormat,
  type RemovalOptions,
  slackVideoFormats,
} from './removal-options.js';
import type { SlackFile } from './slack-files.js';

/** The modal's callback id (bolt routes its submission by it). */
export const OPTIONS_MODAL_ID = 'removebg_options';

/** Block ids of the modal's inputs; a validation error is reported against one of them. */
export const modalBlocks = {
  file: 'file',
  model: 'model',
  videoFormat: 'video_format',
  flags: 'flags',
  color: 'color',
} as const;

/** What the modal was opened for, carried through Slack in the view's private_metadata. */
export const modalContextSchema = z.discriminatedUnion('kind', [
  /** A message shortcut: the message's files, results into its thread. */
  z.object({
    kind: z.literal('message'),
    channel: z.string(),
    threadTs: z.string(),
    fileIds: z.array(z.string()).min(1),
    /** The shortcut's response_url: private notices through it are always shown. */
    responseUrl: z.string().optional(),
  }),
  /** `/removebg`: files come from the modal's file input; results into a new thread. */
  z.object({ kind: z.literal('command'), channel: z.string(), responseUrl: z.string().optional() }),
]);
export type ModalContext = z.infer<typeof modalContextSchema>;

const fileTypes = [
  'jpg',
  'jpeg',
  'png',
  'webp',
  'gif',
  'tiff',
  'avif',
  'mp4',
  'mov',
  'webm',
  'mkv',
  'avi',
];

/** Slack's own limit on files added in a modal's file input. */
export const FILE_INPUT_LIMIT_BYTES = 10 * 1024 * 1024;

/**
 * What the file input tells people: Slack refuses files over 10 MB in a form
 * (https://api.slack.com/reference/block-kit/block-elements#file_input), and what to do instead.
 */
export const FILE_INPUT_HINT =
  'Up to 10 files, 10 MB each (a limit of Slack forms). For a larger file, post it in the conversation, then use ⋯ → Remove background on that message.';

/**
 * The options modal: model, video format, alpha matting, only the mask and a background
 * colour, plus a file input when it was opened by `/removebg` (slash commands carry no files).
 */
export function buildOptionsModal(context: ModalContext): types.ModalView {
  const blocks: types.KnownBlock[] = [];
  if (context.kind === 'command') {
    blocks.push({
      type: 'input',
      block_id: modalBlocks.file,
      label: { type: 'plain_text', text: 'Pictures or videos' },
      hint: { type: 'plain_text', text: FILE_INPUT_HINT },
      element: { type: 'file_input', action_id: 'value', filetypes: fileTypes, max_files: 10 },
    });
  }
  blocks.push(
    optionalSelect(modalBlocks.model, 'Model', 'Server default', modelNames, {
      type: 'plain_text',
      text: "Left empty, the server's default model is used.",
    }),
    optionalSelect(
      modalBlocks.videoFormat,
      'Video format (videos only)',
      'mov (ProRes 4444 with transparency)',
      slackVideoFormats,
    ),
    {
      type: 'input',
      block_id: modalBlocks.flags,
      optional: true,
      label: { type: 'plain_text', text: 'Options' },
      element: {
        type: 'checkboxes',
        action_id: 'value',
        options: [
          option('alpha_matting', 'Alpha matting (finer edges, slower)'),
          option('only_mask', 'Only the mask (black and white)'),
        ],
      },
    },
    {
      type: 'input',
      block_id: modalBlocks.color,
      optional: true,
      label: { type: 'plain_text', text: 'Background colour' },
      hint: {
        type: 'plain_text',
        text: 'Hex, e.g. #ffffff. Left empty, the background is transparent.',
      },
      element: {
        type: 'plain_text_input',
        action_id: 'value',
        placeholder: { type: 'plain_text', text: '#ffffff' },
        max_length: 9,
      },
    },
  );
  return {
    type: 'modal',
    callback_id: OPTIONS_MODAL_ID,
    private_metadata: JSON.stringify(context),
    title: { type: 'plain_text', text: 'Remove background' },
    submit: { type: 'plain_text', text: 'Remove' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks,
  };
}

/** What a submitted modal asked for: its context, the options, and the files of its file input. */
export interface ModalSubmission {
  context: ModalContext;
  options: RemovalOptions;
  files: SlackFile[];
}

/**
 * Reads a submitted options modal. Invalid choices come back as `errors` keyed by block id, the
 * shape Slack shows next to each input (`response_action: 'errors'`).
 */
export function readOptionsModal(
  view: ViewOutput,
): { ok: true; submission: ModalSubmission } | { ok: false; errors: Record<string, string> } {
  const context = modalContextSchema.safeParse(safeJson(view.private_metadata));
  if (!context.success) {
    return { ok: false, errors: { [modalBlocks.model]: 'This form is out of date; start again' } };
  }
  const value = (block: string) => view.state.values[block]?.value;
  const errors: Record<string, string> = {};
  const options: RemovalOptions = {};
  const attempt = (block: string, read: () => void) => {
    try {
      read();
    } catch (error) {
      if (!(error instanceof OptionError)) throw error;
      errors[block] = error.message;
    }
  };
  const model = value(modalBlocks.model)?.selected_option?.value;
  if (model) attempt(modalBlocks.model, () => (options.model = parseModel(model)));
  const format = value(modalBlocks.videoFormat)?.selected_option?.value;
  if (format) {
    attempt(modalBlocks.videoFormat, () => (options.videoFormat = parseVideoFormat(format)));
  }
  const flags = new Set(
    (value(modalBlocks.flags)?.selected_options ?? []).map((selected) => selected.value),
  );
  if (flags.has('alpha_matting')) options.alphaMatting = true;
  if (flags.has('only_mask')) options.onlyMask = true;
  const color = value(modalBlocks.color)?.value?.trim();
  if (color) {
    attempt(modalBlocks.color, () => (options.backgroundColor = checkBackgroundColor(color)));
  }
  const files: SlackFile[] = (value(modalBlocks.file)?.files ?? []).map((file) => ({
    id: file.id,
    name: file.name,
    title: file.title,
    mimetype: file.mimetype,
    filetype: file.filetype,
    size: file.size,
    mode: file.mode,
    url_private: file.url_private,
    url_private_download: file.url_private_download,
  }));
  if (context.data.kind === 'command' && files.length === 0) {
    errors[modalBlocks.file] = 'Add a picture or a video';
  }
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return { ok: true, submission: { context: context.data, options, files } };
}

/** An optional drop-down of `values` (each its own label); empty, the server's default applies. */
function optionalSelect(
  block: string,
  label: string,
  placeholder: string,
  values: readonly string[],
  hint?: types.PlainTextElement,
): types.InputBlock {
  return {
    type: 'input',
    block_id: block,
    optional: true,
    label: { type: 'plain_text', text: label },
    ...(hint ? { hint } : {}),
    element: {
      type: 'static_select',
      action_id: 'value',
      placeholder: { type: 'plain_text', text: placeholder },
      options: values.map((value) => option(value)),
    },
  };
}

function option(value: string, text = value): types.PlainTextOption {
  return { text: { type: 'plain_text', text }, value };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
