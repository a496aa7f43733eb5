import type { webApi } from '@slack/bolt';
import { slackErrorCode } from './replies.js';

/** Whether the bot can work in a conversation (read its messages, post and upload there). */
export type ConversationAccess =
  | { ok: true; kind: 'channel' | 'private' | 'im' | 'mpim'; joined: boolean }
  | { ok: false; reason: string };

/**
 * Makes sure the bot is in the conversation before anything is queued, so that uploads never
 * fail with `not_in_channel` after the work is done: a DM with the bot and a conversation it is
 * in are fine; a public channel it is not in is joined (conversations.join, `channels:join`); a
 * private channel or group DM it is not in, and a DM between other people, are refused with how
 * to invite the bot.
 */
export async function ensureBotInConversation(
  client: webApi.WebClient,
  channel: string,
  botUserId: string | undefined,
): Promise<ConversationAccess> {
  let info: Awaited<ReturnType<webApi.WebClient['conversations']['info']>>;
  try {
    info = await client.conversations.info({ channel });
  } catch (error) {
    const code = slackErrorCode(error);
    if (code === undefined) throw error;
    return { ok: false, reason: cannotWorkHereText(botUserId, code) };
  }
  const found = info.channel;
  if (!found) return { ok: false, reason: cannotWorkHereText(botUserId, 'channel_not_found') };
  const kind = found.is_im
    ? 'im'
    : found.is_mpim
      ? 'mpim'
      : found.is_private || found.is_group
        ? 'private'
        : 'channel';
  if (kind === 'im' || found.is_member) return { ok: true, kind, joined: false };
  if (kind !== 'channel') return { ok: false, reason: inviteText(botUserId) };
  try {
    await client.conversations.join({ channel });
    return { ok: true, kind, joined: true };
  } catch (error) {
    const code = slackErrorCode(error);
    if (code === undefined) throw error;
    return { ok: false, reason: inviteText(botUserId) };
  }
}

/** How to let the bot in, naming it (`<@U…>` shows as its name). */
export function inviteText(botUserId: string | undefined): string {
  const bot = botUserId ? `<@${botUserId}>` : '@bgremover';
  return `:warning: I am not in this conversation, so I could not post the results here. Invite me first (\`/invite ${bot}\`), then try again.`;
}

function cannotWorkHereText(botUserId: string | undefined, code: string): string {
  if (code === 'channel_not_found') {
    const bot = botUserId ? `<@${botUserId}>` : 'me';
    return `:warning: I cannot work in this conversation (a private one I am not in, or a DM between other people). Use me in a channel I am in, invite me (\`/invite ${bot}\`), or send me the file in a DM.`;
  }
  return `:warning: I cannot work in this conversation (Slack says ${code}).`;
}

/** The sharing fields of a files.info answer that the visibility rule reads. */
export interface FileSharing {
  user?: string | undefined;
  channels?: readonly string[] | undefined;
  groups?: readonly string[] | undefined;
  ims?: readonly string[] | undefined;
}

/**
 * The rule for `/removebg <file link>`: a file may be worked on in a conversation only when it
 * is shared in that very conversation (its `channels`, `groups` or `ims` name it), so everyone
 * who will see the result could already see the file, or when the person asking uploaded it.
 * Anything else (a file from a private channel the person is not in, from someone else's DM) is
 * refused, however much the bot itself can see.
 */
export function mayUseFileHere(file: FileSharing, channel: string, user: string): boolean {
  if (file.user !== undefined && file.user === user) return true;
  return [file.channels, file.groups, file.ims].some((ids) => ids?.includes(channel) ?? false);
}
