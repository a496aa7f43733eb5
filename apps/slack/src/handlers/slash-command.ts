import { createHash } from 'node:crypto';
import type { App, SlashCommand, webApi } from '@slack/bolt';
import { CommandTextError, helpText, parseCommandText, SLASH_COMMAND } from '../command-text.js';
import { buildOptionsModal } from '../options-modal.js';
import { OptionError, type RemovalOptions } from '../removal-options.js';
import { requestSummary, tellUser } from '../replies.js';
import type { SlackFile } from '../slack-files.js';
import { enqueueJobs, lookUpFile, planJobs } from '../start-jobs.js';
import { type HandlerDeps, START_FAILED_TEXT } from './deps.js';
import { missingFileText, NOT_IN_CHANNEL_TEXT, openResultThread } from './options-submission.js';

/**
 * `/removebg`: alone, opens the options modal with a file input (slash commands carry no files);
 * `help` explains usage; a Slack file link (with options) starts a job on that file, its result
 * in a thread the bot opens in the channel. A malformed line is answered at once, privately,
 * with what is wrong.
 */
export function registerSlashCommand(app: App, deps: HandlerDeps): void {
  app.command(SLASH_COMMAND, async ({ command, ack, client }) => {
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
    if (request.kind === 'modal') {
      await deps.track(() =>
        client.views.open({
          trigger_id: command.trigger_id,
          view: buildOptionsModal({ kind: 'command', channel: command.channel_id }),
        }),
      );
      return;
    }
    const { fileId, url, options } = request;
    await deps.track(() => startFromLink(command, client, deps, { fileId, url, options }));
  });
}

async function startFromLink(
  command: SlashCommand,
  client: webApi.WebClient,
  deps: HandlerDeps,
  link: { fileId: string | undefined; url: string; options: RemovalOptions },
): Promise<void> {
  const where = { channel: command.channel_id, user: command.user_id };
  try {
    const file = link.fileId ? await lookUpFile(client, link.fileId) : fileFromUrl(link.url);
    if (!file) {
      await tellUser(client, where, `:x: ${missingFileText(link.fileId ?? link.url)}`, deps.logger);
      return;
    }
    const plan = planJobs([file], deps.config, deps.config.maxFilesPerRequest);
    if (plan.accepted.length === 0) {
      await tellUser(
        client,
        where,
        requestSummary({ started: [], refused: plan.refused }, ''),
        deps.logger,
      );
      return;
    }
    const threadTs = await openResultThread(client, command.channel_id, command.user_id, [file]);
    if (!threadTs) {
      await tellUser(client, where, NOT_IN_CHANNEL_TEXT, deps.logger);
      return;
    }
    const outcome = await enqueueJobs(
      deps.queue,
      {
        channel: command.channel_id,
        threadTs,
        userId: command.user_id,
        requestKey: command.trigger_id,
        options: link.options,
      },
      plan.accepted,
    );
    await tellUser(
      client,
      { ...where, threadTs },
      requestSummary({ started: outcome.started, refused: outcome.refused }, ''),
      deps.logger,
    );
  } catch (error) {
    deps.logger.error({ err: error }, '/removebg could not start its job');
    await tellUser(client, where, START_FAILED_TEXT, deps.logger);
  }
}

/** A file known only by its URL (no Slack file id in it): its name and type come from the path. */
function fileFromUrl(url: string): SlackFile {
  const name = decodeURIComponent(new URL(url).pathname.split('/').pop() ?? '') || 'file';
  return { id: `link-${shortHash(url)}`, name, url_private_download: url };
}

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}
