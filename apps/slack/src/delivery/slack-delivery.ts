import { type ReplyTarget, resultDownloadUrl } from '@bgremover/jobs';
import { LogLevel, type RetryOptions, WebAPIPlatformError, WebClient } from '@slack/web-api';
import { UnrecoverableError } from 'bullmq';
import type { DeliverableResult, JobProgress, ReplyAdapter, ReplyContext } from './adapter.js';
import { ProgressMessages } from './slack-progress.js';
import { escapeMrkdwn, formatBytes, mention, progressText, warningLines } from './slack-text.js';

export { loadSlackDeliveryConfig, slackDeliveryEnvSchema } from './slack-config.js';

export type SlackTarget = Extract<ReplyTarget, { kind: 'slack' }>;

/** The reactions the reaction trigger uses (the Slack app adds `pending` when it takes a request). */
export const slackReactions = {
  pending: 'hourglass',
  done: 'white_check_mark',
  failed: 'x',
} as const;

export interface SlackReplyAdapterOptions {
  /** The bot token (xoxb-…): chat:write, files:write, reactions:write. */
  token: string;
  /** The Web API's base URL; Slack's own when left out (tests point it at a loopback stand-in). */
  apiUrl?: string;
  /** Where apps/api is reachable by people (e.g. https://bg.example.com), for results too large to upload. */
  publicBaseUrl?: string;
  /** Results larger than this are linked instead of uploaded. */
  maxUploadBytes: number;
  /** The progress message is edited at most this often (default 3000 ms). */
  progressIntervalMs?: number;
  /** The Web API client's retries (its default retries for about 30 minutes; tests use none). */
  retryConfig?: RetryOptions;
}

/** Slack errors that a later attempt may not see (everything else is a refusal). */
const transientSlackErrors = new Set([
  'ratelimited',
  'internal_error',
  'fatal_error',
  'service_unavailable',
  'request_timeout',
]);

/**
 * The worker's Slack delivery: uploads the result into the request's thread with
 * `files.uploadV2` and a short text (a link to the API's file URL instead when it is over
 * `maxUploadBytes`), shows a video's progress in one message that it edits (at most every few
 * seconds), posts failures as a message naming the file and the reason, and marks the
 * triggering message ✅ or ❌ for the reaction trigger. A refusal from Slack (not in the
 * channel, a bad token) fails the job without retries; network faults and 5xx are retried.
 */
export function createSlackReplyAdapter(
  options: SlackReplyAdapterOptions,
): ReplyAdapter<SlackTarget> {
  const client = new WebClient(options.token, {
    ...(options.apiUrl ? { slackApiUrl: options.apiUrl } : {}),
    ...(options.retryConfig ? { retryConfig: options.retryConfig } : {}),
    logLevel: LogLevel.ERROR,
  });
  const progress = new ProgressMessages(
    {
      post: async (channel, threadTs, text) => {
        const posted = await slackCall('chat.postMessage', () =>
          client.chat.postMessage({ channel, thread_ts: threadTs, text }),
        );
        if (!posted.ts) throw new Error('chat.postMessage returned no ts');
        return posted.ts;
      },
      update: async (channel, ts, text) => {
        await slackCall('chat.update', () => client.chat.update({ channel, ts, text }));
      },
    },
    options.progressIntervalMs ?? 3000,
  );

  /** Replaces the progress message with `text`, or posts `text` in the thread when there is none. */
  async function say(target: SlackTarget, progressTs: string | undefined, text: string) {
    if (progressTs) {
      await slackCall('chat.update', () =>
        client.chat.update({ channel: target.channel, ts: progressTs, text }),
      );
    } else {
      await slackCall('chat.postMessage', () =>
        client.chat.postMessage({ channel: target.channel, thread_ts: target.threadTs, text }),
      );
    }
  }

  async function markMessage(
    target: SlackTarget,
    outcome: 'done' | 'failed',
    context: ReplyContext,
  ) {
    const timestamp = target.reactionTs;
    if (!timestamp) return;
    const channel = target.channel;
    await ignoreReactionState(() =>
      client.reactions.remove({ channel, timestamp, name: slackReactions.pending }),
    ).catch((error: Error) => context.logger.warn({ err: error }, 'could not remove the reaction'));
    await ignoreReactionState(() =>
      client.reactions.add({ channel, timestamp, name: slackReactions[outcome] }),
    ).catch((error: Error) => context.logger.warn({ err: error }, 'could not add the reaction'));
  }

  return {
    async deliverResult(target, result, context) {
      const progressTs = await progress.finish(context.jobId, target.progressMessageTs);
      const shownName = escapeMrkdwn(target.filename ?? result.filename);
      if (result.bytes > options.maxUploadBytes) {
        await say(target, progressTs, oversizeText(target, result, options));
      } else {
        if (progressTs) await say(target, progressTs, `:white_check_mark: ${shownName}: done`);
        await slackCall('files.uploadV2', () =>
          client.filesUploadV2({
            channel_id: target.channel,
            thread_ts: target.threadTs,
            file: result.localPath,
            filename: result.filename,
            title: result.filename,
            initial_comment: `${mention(target.userId)}${shownName} without its background.${warningLines(result.warnings)}`,
          }),
        );
      }
      await markMessage(target, 'done', context);
    },

    async deliverFailure(target, message, context) {
      const progressTs = await progress.finish(context.jobId, target.progressMessageTs);
      const name = target.filename ? ` from ${escapeMrkdwn(target.filename)}` : '';
      await say(
        target,
        progressTs,
        `:x: ${mention(target.userId)}I could not remove the background${name}: ${escapeMrkdwn(message)}`,
      );
      await markMessage(target, 'failed', context);
    },

    async reportProgress(target: SlackTarget, update: JobProgress, context: ReplyContext) {
      const worthShowing =
        update.framesTotal !== undefined ||
        target.progressMessageTs !== undefined ||
        progress.has(context.jobId);
      if (!worthShowing) return;
      await progress.show(
        context.jobId,
        {
          channel: target.channel,
          threadTs: target.threadTs,
          existingTs: target.progressMessageTs,
        },
        progressText(target.filename ?? 'your file', update),
      );
    },
  };
}

/** The message for a result over the upload limit: a link to the API's copy, or why there is none. */
function oversizeText(
  target: SlackTarget,
  result: DeliverableResult,
  options: SlackReplyAdapterOptions,
): string {
  const size = `${formatBytes(result.bytes)}, more than the ${formatBytes(options.maxUploadBytes)} I upload to Slack`;
  const name = escapeMrkdwn(result.filename);
  const who = mention(target.userId);
  if (!options.publicBaseUrl) {
    return `:warning: ${who}${name} is ready but too large to upload (${size}), and this server has no public URL (PUBLIC_BASE_URL) to link to it.${warningLines(result.warnings)}`;
  }
  const url = resultDownloadUrl(options.publicBaseUrl, result.resultKey);
  return `${who}${name} is ready (${size}): <${url}|download ${name}>${warningLines(result.warnings)}`;
}

/**
 * Runs one Slack call; a refusal that retrying cannot change (Slack's `ok: false` with a
 * permanent error) becomes an UnrecoverableError naming the method and Slack's error code.
 */
async function slackCall<T>(method: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof WebAPIPlatformError && !transientSlackErrors.has(error.data.error)) {
      throw new UnrecoverableError(`Slack refused ${method}: ${error.data.error}`);
    }
    throw error;
  }
}

/** Adding a reaction that is there, or removing one that is not, is not an error here. */
async function ignoreReactionState(call: () => Promise<unknown>): Promise<void> {
  try {
    await call();
  } catch (error) {
    if (
      error instanceof WebAPIPlatformError &&
      ['already_reacted', 'no_reaction'].includes(error.data.error)
    ) {
      return;
    }
    throw error;
  }
}
