import type { App, MessageShortcut, webApi } from '@slack/bolt';
import { buildOptionsModal } from '../options-modal.js';
import { requestSummary, tellUser } from '../replies.js';
import { parseSlackFiles } from '../slack-files.js';
import { completeFiles, enqueueJobs, planJobs } from '../start-jobs.js';
import { type HandlerDeps, START_FAILED_TEXT } from './deps.js';

/** Callback ids of the two message shortcuts (they must match the manifest). */
export const shortcutIds = {
  quick: 'remove_background',
  withOptions: 'remove_background_options',
} as const;

const NO_FILES_TEXT =
  'That message has no files. Use *Remove background* on a message with a picture or a video.';

/**
 * "Remove background" on a message: acknowledges at once, then starts one job per picture or
 * video of the message with the default options, results into the message's thread, and tells
 * the person (ephemerally) what started and what was refused. "Remove background…" opens the
 * options modal for the message's files instead (its submission starts the jobs).
 */
export function registerMessageShortcuts(app: App, deps: HandlerDeps): void {
  app.shortcut<MessageShortcut>(shortcutIds.quick, async ({ shortcut, ack, client }) => {
    await ack();
    await deps.track(() => startFromMessage(shortcut, client, deps));
  });

  app.shortcut<MessageShortcut>(shortcutIds.withOptions, async ({ shortcut, ack, client }) => {
    await ack();
    await deps.track(async () => {
      const files = parseSlackFiles(shortcut.message.files);
      const where = whereOf(shortcut);
      if (files.length === 0) {
        await tellUser(client, where, NO_FILES_TEXT, deps.logger);
        return;
      }
      await client.views.open({
        trigger_id: shortcut.trigger_id,
        view: buildOptionsModal({
          kind: 'message',
          channel: shortcut.channel.id,
          threadTs: threadOf(shortcut),
          fileIds: files.map((file) => file.id),
        }),
      });
    });
  });
}

async function startFromMessage(
  shortcut: MessageShortcut,
  client: webApi.WebClient,
  deps: HandlerDeps,
): Promise<void> {
  const where = whereOf(shortcut);
  try {
    const files = await completeFiles(client, parseSlackFiles(shortcut.message.files));
    const plan = planJobs(files, deps.config, deps.config.maxFilesPerRequest);
    const outcome = await enqueueJobs(
      deps.queue,
      {
        channel: shortcut.channel.id,
        threadTs: threadOf(shortcut),
        userId: shortcut.user.id,
        requestKey: shortcut.trigger_id,
        options: {},
      },
      plan.accepted,
    );
    const refused = [...plan.refused, ...outcome.refused];
    await tellUser(
      client,
      where,
      requestSummary({ ...outcome, refused }, NO_FILES_TEXT),
      deps.logger,
    );
  } catch (error) {
    deps.logger.error({ err: error }, 'the shortcut could not start its jobs');
    await tellUser(client, where, START_FAILED_TEXT, deps.logger);
  }
}

/** The thread results go into: the message's own thread, or a new one under it. */
function threadOf(shortcut: MessageShortcut): string {
  const threadTs = shortcut.message.thread_ts;
  return typeof threadTs === 'string' && threadTs ? threadTs : shortcut.message.ts;
}

function whereOf(shortcut: MessageShortcut) {
  const threadTs = shortcut.message.thread_ts;
  return {
    channel: shortcut.channel.id,
    user: shortcut.user.id,
    threadTs: typeof threadTs === 'string' ? threadTs : undefined,
  };
}
