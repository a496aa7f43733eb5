import type { App, SlashCommand, webApi } from '@slack/bolt';
import { CommandTextError, helpText, parseCommandText, SLASH_COMMAND } from '../command-text.js';
import { mayUseFileHere } from '../conversation-access.js';
import { lookUpFile } from '../file-plan.js';
import { OptionError, type RemovalOptions } from '../removal-options.js';
import { type NoticeTarget, tellUser } from '../replies.js';
import type { HandlerDeps } from './deps.js';
import { openOptionsModal, startAndTell, tellingFailures } from './listener-steps.js';
import { missingFileText } from './options-submission.js';

/** What `/removebg <link>` says about a file the person may not use here. */
export const NOT_SHARED_HERE_TEXT =
  ':x: I can only work on a file that is shared in this conversation (or one you uploaded yourself). Share the file here first, or run the command where it was shared.';

const NO_FILE_ID_TEXT =
  ":x: That link does not name a Slack file. Use the file's own link (⋯ → Copy link on the file).";

/**
 * `/removebg` (in a channel or a DM with the bot): alone, opens the options modal with a file
 * input (slash commands carry no files); `help` explains usage; a Slack file link (with
 * options) starts a job on that file when the person could already see it here (see
 * `mayUseFileHere`), its result in a thread the bot opens once the file is downloaded. Every
 * answer to the person goes through the command's response_url. A malformed line is answered
 * at once, privately, with what is wrong.
 */
export function registerSlashCommand(app: App, deps: HandlerDeps): void {
  app.command(SLASH_COMMAND, async ({ command, ack, client, context }) => {
    let request: ReturnType<typeof parseCommandText>;
    try {
      request = parseCommandText(command.text);
    } catch (error) {
      if (!(error instanceof CommandTextError || error instanceof OptionError)) throw error;
      await ack({ response_type: 'ephemeral', text: `:x: ${error.message}` });
      return;
    }
    if (request.kind === 'help') {
      await ack({ response_type: 'ephemeral', text: helpText(deps.config.reactionEmoji) });
      return;
    }
    await ack();
    const notice: NoticeTarget = {
      channel: command.channel_id,
      user: command.user_id,
      responseUrl: command.response_url,
    };
    if (request.kind === 'modal') {
      const opening = {
        triggerId: command.trigger_id,
        botUserId: context.botUserId,
        failure: '/removebg could not open its form',
      };
      await deps.track(() =>
        openOptionsModal(deps, client, notice, opening, {
          kind: 'command',
          channel: command.channel_id,
          responseUrl: command.response_url,
        }),
      );
      return;
    }
    const { fileId, options } = request;
    await deps.track(() =>
      startFromLink(command, client, deps, notice, { fileId, options }, context.botUserId),
    );
  });
}

async function startFromLink(
  command: SlashCommand,
  client: webApi.WebClient,
  deps: HandlerDeps,
  notice: NoticeTarget,
  link: { fileId: string | undefined; options: RemovalOptions },
  botUserId: string | undefined,
): Promise<void> {
  await tellingFailures(deps, client, notice, '/removebg could not start its job', async () => {
    if (!link.fileId) {
      await tellUser(client, notice, NO_FILE_ID_TEXT, deps.logger);
      return;
    }
    const file = await lookUpFile(client, link.fileId);
    if (!file) {
      await tellUser(client, notice, `:x: ${missingFileText(link.fileId)}`, deps.logger);
      return;
    }
    if (!mayUseFileHere(file, command.channel_id, command.user_id)) {
      deps.logger.info(
        { file: file.id, channel: command.channel_id, user: command.user_id },
        '/removebg refused a file not shared in this conversation',
      );
      await tellUser(client, notice, NOT_SHARED_HERE_TEXT, deps.logger);
      return;
    }
    const request = { threadTs: undefined, requestKey: command.trigger_id, options: link.options };
    await startAndTell(deps, client, notice, { ...request, botUserId, emptyText: '' }, [file]);
  });
}
