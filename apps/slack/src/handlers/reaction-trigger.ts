import type { App, webApi } from '@slack/bolt';
import { findMessage } from '../message-lookup.js';
import { react, reactions, requestSummary, slackErrorCode, tellUser } from '../replies.js';
import { completeFiles, enqueueJobs, planJobs } from '../start-jobs.js';
import { type HandlerDeps, START_FAILED_TEXT } from './deps.js';

const NO_FILES_TEXT = 'That message has no files. React to a message with a picture or a video.';

/**
 * The reaction trigger: the configured emoji on a message with files starts one job per picture
 * or video, results into the message's thread. The bot reacts :hourglass: before the jobs are
 * queued (the worker swaps it for ✅ or ❌ when each ends) and :x: at once when nothing could
 * start; refusals are explained to the person who reacted. Each event is handled once, even when
 * Slack delivers it again (`X-Slack-Retry-Num`).
 */
export function registerReactionTrigger(app: App, deps: HandlerDeps): void {
  app.event('reaction_added', async ({ event, body, client }) => {
    if (event.item.type !== 'message') return;
    if (event.reaction.split('::')[0] !== deps.config.reactionEmoji) return;
    const item = { channel: event.item.channel, ts: event.item.ts };
    await deps.track(async () => {
      if (!(await deps.claims.claim(`event:${body.event_id}`))) {
        deps.logger.info({ eventId: body.event_id }, 'event already handled; retry skipped');
        return;
      }
      await startFromReaction(item, event.user, body.event_id, client, deps);
    });
  });
}

async function startFromReaction(
  item: { channel: string; ts: string },
  user: string,
  eventId: string,
  client: webApi.WebClient,
  deps: HandlerDeps,
): Promise<void> {
  const where = { channel: item.channel, user };
  try {
    let message: Awaited<ReturnType<typeof findMessage>>;
    try {
      message = await findMessage(client, item.channel, item.ts);
    } catch (error) {
      const code = slackErrorCode(error);
      if (code === undefined) throw error;
      await tellUser(
        client,
        where,
        `:x: I cannot read that message (${code}). Invite me to the channel first (\`/invite @bgremover\`).`,
        deps.logger,
      );
      return;
    }
    const files = message ? await completeFiles(client, message.files) : [];
    const plan = planJobs(files, deps.config, deps.config.maxFilesPerRequest);
    const threadTs = message?.threadTs ?? item.ts;
    if (plan.accepted.length > 0) await react(client, item, reactions.pending, deps.logger);
    const outcome = await enqueueJobs(
      deps.queue,
      {
        channel: item.channel,
        threadTs,
        userId: user,
        reactionTs: item.ts,
        requestKey: eventId,
        options: {},
      },
      plan.accepted,
    );
    const refused = [...plan.refused, ...outcome.refused];
    if (outcome.started.length === 0) await react(client, item, reactions.failed, deps.logger);
    if (refused.length > 0 || outcome.started.length === 0) {
      await tellUser(
        client,
        { ...where, threadTs: message?.threadTs },
        requestSummary({ started: outcome.started, refused }, NO_FILES_TEXT),
        deps.logger,
      );
    }
  } catch (error) {
    deps.logger.error({ err: error }, 'the reaction could not start its jobs');
    await react(client, item, reactions.failed, deps.logger);
    await tellUser(client, where, START_FAILED_TEXT, deps.logger);
  }
}
