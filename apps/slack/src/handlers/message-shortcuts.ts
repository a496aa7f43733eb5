import type { App, MessageShortcut, webApi } from '@slack/bolt';
import { completeFiles } from '../file-plan.js';
import { type NoticeTarget, tellUser } from '../replies.js';
import { parseSlackFiles } from '../slack-files.js';
import type { HandlerDeps } from './deps.js';
import { openOptionsModal, startAndTell, tellingFailures } from './listener-steps.js';

/** Callback ids of the two message shortcuts (they must match the manifest). */
export const shortcutIds = {
  quick: 'remove_background',
  withOptions: 'remove_background_options',
} as const;

const NO_FILES_TEXT =
  'That message has no files. Use *Remove background* on a message with a picture or a video.';

/**
 * "Remove background" on a message (in a channel, a private channel or a DM with the bot):
 * acknowledges at once, makes sure the bot is in the conversation (joining a public channel,
 * or telling the person how to invite it), then starts one job per picture or video of the
 * message with the default options, results into the message's thread, and tells the person
 * privately (through the shortcut's response_url) what started and what was refused.
 * "Remove background…" does the same checks, then opens the options modal for the message's
 * files (its submission starts the jobs); nothing is posted before that.
 */
export function registerMessageShortcuts(app: App, deps: HandlerDeps): void {
  app.shortcut<MessageShortcut>(shortcutIds.quick, async ({ shortcut, ack, client, context }) => {
    await ack();
    await deps.track(() => startFromMessage(shortcut, client, deps, context.botUserId));
  });

  app.shortcut<MessageShortcut>(
    shortcutIds.withOptions,
    async ({ shortcut, ack, client, context }) => {
      await ack();
      await deps.track(async () => {
        const notice = noticeOf(shortcut);
        const files = parseSlackFiles(shortcut.message.files);
        if (files.length === 0) {
          await tellUser(client, notice, NO_FILES_TEXT, deps.logger);
          return;
        }
        const opening = {
          triggerId: shortcut.trigger_id,
          botUserId: context.botUserId,
          failure: 'the options shortcut failed',
        };
        await openOptionsModal(deps, client, notice, opening, {
          kind: 'message',
          channel: shortcut.channel.id,
          threadTs: threadOf(shortcut),
          fileIds: files.map((file) => file.id),
          responseUrl: shortcut.response_url,
        });
      });
    },
  );
}

async function startFromMessage(
  shortcut: MessageShortcut,
  client: webApi.WebClient,
  deps: HandlerDeps,
  botUserId: string | undefined,
): Promise<void> {
  const notice = noticeOf(shortcut);
  await tellingFailures(deps, client, notice, 'the shortcut could not start its jobs', async () => {
    const files = await completeFiles(client, parseSlackFiles(shortcut.message.files));
    if (files.length === 0) {
      await tellUser(client, notice, NO_FILES_TEXT, deps.logger);
      return;
    }
    const request = { threadTs: threadOf(shortcut), requestKey: shortcut.trigger_id, options: {} };
    await startAndTell(
      deps,
      client,
      notice,
      { ...request, botUserId, emptyText: NO_FILES_TEXT },
      files,
    );
  });
}

/** The thread results go into: the message's own thread, or a new one under it. */
function threadOf(shortcut: MessageShortcut): string {
  const threadTs = shortcut.message.thread_ts;
  return typeof threadTs === 'string' && threadTs ? threadTs : shortcut.message.ts;
}

function noticeOf(shortcut: MessageShortcut): NoticeTarget {
  return {
    channel: shortcut.channel.id,
    user: shortcut.user.id,
    responseUrl: shortcut.response_url,
  };
}
