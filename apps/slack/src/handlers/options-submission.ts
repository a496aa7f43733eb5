import type { App, webApi } from '@slack/bolt';
import { OPTIONS_MODAL_ID, readOptionsModal } from '../options-modal.js';
import { requestSummary, slackErrorCode, tellUser } from '../replies.js';
import type { SlackFile } from '../slack-files.js';
import { completeFiles, enqueueJobs, lookUpFile, planJobs, type Refusal } from '../start-jobs.js';
import { escapeMrkdwn, listNames } from '../text.js';
import { type HandlerDeps, START_FAILED_TEXT } from './deps.js';

const NO_FILES_TEXT = 'There was no picture or video to work on.';

/**
 * The options modal's submission: invalid choices are shown next to their inputs (the modal
 * stays open); otherwise it closes at once and the jobs start with the chosen options. For a
 * message shortcut the files are looked up again (files.info) and results go into the message's
 * thread; for `/removebg` the uploaded files are used and the bot opens a thread for the results
 * with a message in the channel the command was run in.
 */
export function registerOptionsSubmission(app: App, deps: HandlerDeps): void {
  app.view(OPTIONS_MODAL_ID, async ({ view, body, ack, client }) => {
    const read = readOptionsModal(view);
    if (!read.ok) {
      await ack({ response_action: 'errors', errors: read.errors });
      return;
    }
    await ack();
    const { context, options, files } = read.submission;
    const user = body.user.id;
    await deps.track(async () => {
      const where = { channel: context.channel, user };
      try {
        let threadTs: string;
        let inputs: SlackFile[];
        const missing: Refusal[] = [];
        if (context.kind === 'message') {
          threadTs = context.threadTs;
          const found = await Promise.all(context.fileIds.map((id) => lookUpFile(client, id)));
          inputs = found.filter((file): file is SlackFile => file !== undefined);
          for (const [index, id] of context.fileIds.entries()) {
            if (!found[index]) missing.push({ name: id, reason: missingFileText(id) });
          }
        } else {
          inputs = await completeFiles(client, files);
          const opened = await openResultThread(client, context.channel, user, inputs);
          if (!opened) {
            await tellUser(client, where, NOT_IN_CHANNEL_TEXT, deps.logger);
            return;
          }
          threadTs = opened;
        }
        const plan = planJobs(inputs, deps.config, deps.config.maxFilesPerRequest);
        const outcome = await enqueueJobs(
          deps.queue,
          { channel: context.channel, threadTs, userId: user, requestKey: view.id, options },
          plan.accepted,
        );
        const refused = [...missing, ...plan.refused, ...outcome.refused];
        await tellUser(
          client,
          { ...where, threadTs },
          requestSummary({ ...outcome, refused }, NO_FILES_TEXT),
          deps.logger,
        );
      } catch (error) {
        deps.logger.error({ err: error }, 'the options modal could not start its jobs');
        await tellUser(client, where, START_FAILED_TEXT, deps.logger);
      }
    });
  });
}

/**
 * Posts the message whose thread will hold `/removebg`'s results and returns its ts, or
 * undefined when the bot cannot post in that conversation.
 */
export async function openResultThread(
  client: webApi.WebClient,
  channel: string,
  user: string,
  files: readonly SlackFile[],
): Promise<string | undefined> {
  const names = listNames(files.map((file) => escapeMrkdwn(file.name ?? file.title ?? file.id)));
  try {
    const posted = await client.chat.postMessage({
      channel,
      text: `<@${user}> asked me to remove the background from ${names || 'a file'}; the results will appear in this thread.`,
    });
    return posted.ts;
  } catch (error) {
    if (slackErrorCode(error) !== undefined) return undefined;
    throw error;
  }
}

/** What to say when the bot cannot post where `/removebg` was run. */
export const NOT_IN_CHANNEL_TEXT =
  ':warning: I cannot post in this conversation. Invite me first (`/invite @bgremover`), or run the command in a channel I am in.';

/** Why a file id from a message or a link cannot be used. */
export function missingFileText(fileId: string): string {
  return `I cannot find the file ${fileId}: it was deleted, or it is shared only where I am not`;
}
