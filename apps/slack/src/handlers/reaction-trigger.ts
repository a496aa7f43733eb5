import type { App, webApi } from '@slack/bolt';
import { completeFiles } from '../file-plan.js';
import { findMessage } from '../message-lookup.js';
import { react, reactions, requestSummary, slackErrorCode, tellUser } from '../replies.js';
import type { SlackFile } from '../slack-files.js';
import { startRequest } from '../start-request.js';
import { escapeMrkdwn, listNames } from '../text.js';
import { type HandlerDeps, START_FAILED_TEXT } from './deps.js';
import { botMayWorkHere } from './listener-steps.js';

const NO_FILES_TEXT = 'That message has no files. React to a message with a picture or a video.';

/**
 * The reaction trigger: the configured emoji on a message with files (in a channel or a DM
 * with the bot) starts one job per picture or video, results into the message's thread. Each
 * file of a message is processed once, however many people react or how often (a Redis claim
 * per message and file, and a job id derived from channel, message and file); each event is
 * handled once, even when Slack delivers it again (`X-Slack-Retry-Num`). The bot reacts
 * :hourglass: while the jobs are queued (delivery swaps it for ✅ or ❌) and :x: at once when
 * nothing could start; refusals are explained privately to the person who reacted.
 */
export function registerReactionTrigger(app: App, deps: HandlerDeps): void {
  app.event('reaction_added', async ({ event, body, client, context }) => {
    if (event.item.type !== 'message') return;
    if (event.reaction.split('::')[0] !== deps.config.reactionEmoji) return;
    if (context.botUserId && event.user === context.botUserId) return;
    const item = { channel: event.item.channel, ts: event.item.ts };
    await deps.track(async () => {
      if (!(await deps.claims.claim(`event:${body.event_id}`))) {
        deps.logger.info({ eventId: body.event_id }, 'event already handled; retry skipped');
        return;
      }
      await startFromReaction(item, event.user, body.event_id, client, deps, context.botUserId);
    });
  });
}

async function startFromReaction(
  item: { channel: string; ts: string },
  user: string,
  eventId: string,
  client: webApi.WebClient,
  deps: HandlerDeps,
  botUserId: string | undefined,
): Promise<void> {
  const notice = { channel: item.channel, user };
  const claimed: string[] = [];
  try {
    if (!(await botMayWorkHere(deps, client, notice, botUserId))) return;
    let message: Awaited<ReturnType<typeof findMessage>>;
    try {
      message = await findMessage(client, item.channel, item.ts);
    } catch (error) {
      const code = slackErrorCode(error);
      if (code === undefined) throw error;
      await tellUser(client, notice, `:x: I cannot read that message (${code}).`, deps.logger);
      return;
    }
    const files = message ? await completeFiles(client, message.files) : [];
    const fresh: SlackFile[] = [];
    const already: SlackFile[] = [];
    for (const file of files) {
      const key = fileClaimKey(deps, item, file.id);
      if (await deps.claims.claim(key)) {
        claimed.push(key);
        fresh.push(file);
      } else already.push(file);
    }
    if (files.length > 0 && fresh.length === 0) {
      const names = listNames(already.map((file) => escapeMrkdwn(file.name ?? file.id)));
      await tellUser(
        client,
        notice,
        `${names} ${already.length > 1 ? 'were' : 'was'} already processed for an earlier reaction; the results are in the message's thread.`,
        deps.logger,
      );
      return;
    }
    if (fresh.length > 0) await react(client, item, reactions.pending, deps.logger);
    const outcome = await startRequest(
      deps,
      client,
      {
        channel: item.channel,
        threadTs: message?.threadTs ?? item.ts,
        userId: user,
        reactionTs: item.ts,
        requestKey: eventId,
        jobIdOf: (fileId) => `slack-reaction-${item.channel}-${item.ts}-${fileId}`,
        options: {},
      },
      fresh,
    );
    if (outcome.started.length === 0) await markFailed(client, item, deps);
    if (outcome.refused.length > 0 || outcome.started.length === 0) {
      await tellUser(client, notice, requestSummary(outcome, NO_FILES_TEXT), deps.logger);
    }
  } catch (error) {
    deps.logger.error({ err: error }, 'the reaction could not start its jobs');
    // Nothing was queued for sure: let a later reaction try these files again.
    await Promise.all(claimed.map((key) => deps.claims.release(key).catch(() => undefined)));
    await markFailed(client, item, deps);
    await tellUser(client, notice, START_FAILED_TEXT, deps.logger);
  }
}

function fileClaimKey(deps: HandlerDeps, item: { channel: string; ts: string }, fileId: string) {
  return `reaction:${deps.config.jobs.queueName}:${item.channel}:${item.ts}:${fileId}`;
}

async function markFailed(
  client: webApi.WebClient,
  item: { channel: string; ts: string },
  deps: HandlerDeps,
): Promise<void> {
  await client.reactions
    .remove({ channel: item.channel, timestamp: item.ts, name: reactions.pending })
    .catch(() => undefined);
  await react(client, item, reactions.failed, deps.logger);
}
