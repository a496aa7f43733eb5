import type { App } from '@slack/bolt';
import { completeFiles, lookUpFile, type Refusal } from '../file-plan.js';
import { OPTIONS_MODAL_ID, readOptionsModal } from '../options-modal.js';
import { requestSummary, tellUser } from '../replies.js';
import type { SlackFile } from '../slack-files.js';
import { startRequest } from '../start-request.js';
import { type HandlerDeps, START_FAILED_TEXT } from './deps.js';
import { botMayWorkHere } from './listener-steps.js';

const NO_FILES_TEXT = 'There was no picture or video to work on.';

/**
 * The options modal's submission: invalid choices are shown next to their inputs (the modal
 * stays open); otherwise it closes at once and the jobs start with the chosen options. For a
 * message shortcut the files are looked up again (files.info) and results go into the message's
 * thread; for `/removebg` the uploaded files are checked and downloaded first, and only then
 * does the bot open a thread for the results in the conversation the command was run in. The
 * person is told privately through the response_url of the shortcut or command that opened the
 * form (an ephemeral in the channel, or a DM, when it has expired).
 */
export function registerOptionsSubmission(app: App, deps: HandlerDeps): void {
  app.view(OPTIONS_MODAL_ID, async ({ view, body, ack, client, context }) => {
    const read = readOptionsModal(view);
    if (!read.ok) {
      await ack({ response_action: 'errors', errors: read.errors });
      return;
    }
    await ack();
    const { context: opened, options, files } = read.submission;
    const user = body.user.id;
    await deps.track(async () => {
      const notice = { channel: opened.channel, user, responseUrl: opened.responseUrl };
      try {
        if (!(await botMayWorkHere(deps, client, notice, context.botUserId))) return;
        let inputs: SlackFile[];
        const missing: Refusal[] = [];
        if (opened.kind === 'message') {
          const found = await Promise.all(opened.fileIds.map((id) => lookUpFile(client, id)));
          inputs = found.filter((file): file is SlackFile => file !== undefined);
          for (const [index, id] of opened.fileIds.entries()) {
            if (!found[index]) missing.push({ name: id, reason: missingFileText(id) });
          }
        } else {
          inputs = await completeFiles(client, files);
        }
        const outcome = await startRequest(
          deps,
          client,
          {
            channel: opened.channel,
            threadTs: opened.kind === 'message' ? opened.threadTs : undefined,
            userId: user,
            requestKey: view.id,
            options,
          },
          inputs,
        );
        const refused = [...missing, ...outcome.refused];
        await tellUser(
          client,
          notice,
          requestSummary({ started: outcome.started, refused }, NO_FILES_TEXT),
          deps.logger,
        );
      } catch (error) {
        deps.logger.error({ err: error }, 'the options modal could not start its jobs');
        await tellUser(client, notice, START_FAILED_TEXT, deps.logger);
      }
    });
  });
}

/** Why a file id from a message or a link cannot be used. */
export function missingFileText(fileId: string): string {
  return `I cannot find the file ${fileId}: it was deleted, or it is shared only where I am not`;
}
