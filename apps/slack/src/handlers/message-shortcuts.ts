import type { App, MessageShortcut, webApi } from '@slack/bolt';
import { ensureBotInConversation } from '../conversation-access.js';
import { completeFiles } from '../file-plan.js';
import { buildOptionsModal } from '../options-modal.js';
import { type NoticeTarget, requestSummary, tellUser } from '../replies.js';
import { parseSlackFiles } from '../slack-files.js';
import { startRequest } from '../start-request.js';
import { type HandlerDeps, START_FAILED_TEXT } from './deps.js';

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
        try {
          const files = parseSlackFiles(shortcut.message.files);
          if (files.length === 0) {
            await tellUser(client, notice, NO_FILES_TEXT, deps.logger);
            return;
          }
          const access = await ensureBotInConversation(
            client,
            shortcut.channel.id,
            context.botUserId,
          );
          if (!access.ok) {
            await tellUser(client, notice, access.reason, deps.logger);
            return;
          }
          await client.views.open({
            trigger_id: shortcut.trigger_id,
            view: buildOptionsModal({
              kind: 'message',
              channel: shortcut.channel.id,
              threadTs: threadOf(shortcut),
              fileIds: files.map((file) => file.id),
              responseUrl: shortcut.response_url,
            }),
          });
        } catch (error) {
          deps.logger.error({ err: error }, 'the options shortcut failed');
          await tellUser(client, notice, START_FAILED_TEXT, deps.logger);
        }
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
  try {
    const files = await completeFiles(client, parseSlackFiles(shortcut.message.files));
    if (files.length === 0) {
      await tellUser(client, notice, NO_FILES_TEXT, deps.logger);
      return;
    }
    const access = await ensureBotInConversation(client, shortcut.channel.id, botUserId);
    if (!access.ok) {
      await tellUser(client, notice, access.reason, deps.logger);
      return;
    }
    const outcome = await startRequest(
      deps,
      client,
      {
        channel: shortcut.channel.id,
        threadTs: threadOf(shortcut),
        userId: shortcut.user.id,
        requestKey: shortcut.trigger_id,
        options: {},
      },
      files,
    );
    await tellUser(client, notice, requestSummary(outcome, NO_FILES_TEXT), deps.logger);
  } catch (error) {
    deps.logger.error({ err: error }, 'the shortcut could not start its jobs');
    await tellUser(client, notice, START_FAILED_TEXT, deps.logger);
  }
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
