import {
  checkBackgroundColor,
  OptionError,
  parseModel,
  parseVideoFormat,
  type RemovalOptions,
} from './removal-options.js';

/** The slash command this app answers (it must match the manifest). */
export const SLASH_COMMAND = '/removebg';

/** What `/removebg <text>` asks for. */
export type CommandRequest =
  | { kind: 'modal' }
  | { kind: 'help' }
  | { kind: 'file'; fileId: string | undefined; url: string; options: RemovalOptions };

/** A command line this app cannot act on; `message` says what is wrong and how to write it. */
export class CommandTextError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CommandTextError';
  }
}

/**
 * Reads `/removebg`'s text: nothing opens the modal, `help` explains, otherwise a Slack file URL
 * or permalink followed by options (`model=u2netp`, `format=webm`, `matting`, `mask`,
 * `color=#ffffff`). Slack's `<url|label>` link markup is accepted. Throws CommandTextError or
 * OptionError naming the problem.
 */
export function parseCommandText(text: string): CommandRequest {
  const words = text.trim().split(/\s+/).filter(Boolean);
  const first = words[0];
  if (!first) return { kind: 'modal' };
  if (['help', '-h', '--help', '?'].includes(first.toLowerCase())) return { kind: 'help' };
  const url = unwrapLink(first);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CommandTextError(
      `"${first}" is not a file link. Give a Slack file's link (More actions → Copy link), or run ${SLASH_COMMAND} alone to upload one.`,
    );
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new CommandTextError(`"${first}" is not a web link`);
  }
  return {
    kind: 'file',
    fileId: fileIdInPath(parsed.pathname),
    url,
    options: parseOptionWords(words.slice(1)),
  };
}

/**
 * The Slack file id (`F…`) in a file URL or permalink: `/files-pri/T…-F…/name.png`,
 * `/files/U…/F…/name.png`, `/files/F…`.
 */
export function fileIdInPath(pathname: string): string | undefined {
  return /(?:^|[/-])(F[A-Z0-9]{6,})(?=[/?#]|$)/.exec(pathname)?.[1];
}

function unwrapLink(word: string): string {
  const match = /^<([^|>]+)(?:\|[^>]*)?>$/.exec(word);
  return match?.[1] ?? word;
}

function parseOptionWords(words: readonly string[]): RemovalOptions {
  const options: RemovalOptions = {};
  for (const word of words) {
    const [rawKey = '', ...rest] = word.split('=');
    const key = rawKey.toLowerCase();
    const value = rest.join('=');
    if (key === 'matting' || key === 'alpha_matting') options.alphaMatting = flag(key, value);
    else if (key === 'mask' || key === 'only_mask') options.onlyMask = flag(key, value);
    else if (key === 'model') options.model = parseModel(required(key, value));
    else if (key === 'format' || key === 'video_format') {
      options.videoFormat = parseVideoFormat(required(key, value));
    } else if (key === 'color' || key === 'colour' || key === 'bg') {
      options.backgroundColor = checkBackgroundColor(required(key, value));
    } else {
      throw new CommandTextError(
        `Unknown option "${word}". Options: model=NAME, format=FORMAT, matting, mask, color=#RRGGBB (see ${SLASH_COMMAND} help)`,
      );
    }
  }
  return options;
}

function required(key: string, value: string): string {
  if (!value) throw new CommandTextError(`${key} needs a value, e.g. ${key}=…`);
  return value;
}

function flag(key: string, value: string): boolean {
  if (value === '' || ['true', 'yes', 'on', '1'].includes(value.toLowerCase())) return true;
  if (['false', 'no', 'off', '0'].includes(value.toLowerCase())) return false;
  throw new OptionError(
    key.includes('mask') ? 'onlyMask' : 'alphaMatting',
    `${key} is on or off (got "${value}")`,
  );
}

/** What `/removebg help` answers. */
export function helpText(reactionEmoji: string): string {
  return [
    '*Remove the background from pictures and videos*',
    `• On a message with files: *More actions* (⋯) → *Remove background* (defaults) or *Remove background…* (choose the options). Results appear in the message's thread.`,
    `• React with :${reactionEmoji}: to a message with files: I react :hourglass:, then :white_check_mark: or :x:.`,
    `• \`${SLASH_COMMAND}\` alone opens a form to upload files and choose options.`,
    `• \`${SLASH_COMMAND} <file link> [options]\` works on a file shared in the conversation you run it in (or one you uploaded). Options: \`model=u2netp\`, \`format=webm\` (videos: mov, webm, gif, mattekey, mp4_with_color), \`matting\`, \`mask\`, \`color=#ffffff\`.`,
    '• All of this works in a DM with me too. The form takes files up to 10 MB (a limit of Slack forms); for larger ones, post the file and use the shortcut.',
    'Pictures: JPEG, PNG, WebP, GIF, TIFF, AVIF. Videos: MP4, MOV, WebM, MKV, AVI. I join public channels by myself; invite me to a private one first (`/invite @bgremover`).',
  ].join('\n');
}
