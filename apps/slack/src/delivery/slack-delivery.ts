import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatBytes } from '@bgremover/core/contract';
import {
  type DeliveryHandlers,
  type DeliveryJobData,
  type DeliveryOutcome,
  type JobProgress,
  PermanentDeliveryError,
  type PlatformTarget,
  resultDownloadUrl,
  type Storage,
  StorageNotFoundError,
  safeFileName,
} from '@bgremover/jobs';
import type { webApi } from '@slack/bolt';
import type { Logger } from 'pino';
import { reactions, slackErrorCode } from '../replies.js';
import { escapeMrkdwn } from '../text.js';
import { mention, progressText, warningLines } from './delivery-text.js';
import { ProgressMessages } from './progress-messages.js';
import type { ProgressMessageStore } from './progress-store.js';

/** A Slack reply target. */
export type SlackTarget = PlatformTarget<'slack'>;
type SlackDelivery = DeliveryJobData & { target: SlackTarget };
type ResultOutcome = Extract<DeliveryOutcome, { kind: 'result' }>;

export interface SlackDeliveryOptions {
  client: webApi.WebClient;
  storage: Storage;
  progressStore: ProgressMessageStore;
  logger: Logger;
  /** Results larger than this are linked instead of uploaded. */
  maxUploadBytes: number;
  /** Where people reach the API, for those links. */
  publicBaseUrl: string | undefined;
  /** A progress message is edited at most this often (default 3000 ms). */
  progressIntervalMs?: number;
}

/** Slack errors a later attempt may not see (every other Slack error is a refusal). */
const transientSlackErrors = new Set([
  'ratelimited',
  'internal_error',
  'fatal_error',
  'service_unavailable',
  'request_timeout',
]);

/**
 * The Slack app's side of delivery. A result is read back from storage and uploaded into the
 * request's thread with `files.uploadV2` (a link to the API's copy when it is over
 * `maxUploadBytes`); only once the upload succeeded does the progress message say done and the
 * reacted-to message get ✅. A failure is posted naming the file and the reason, with ❌. A
 * job's progress (a video's frames, a picture that waited in a long queue) is one message,
 * edited. Slack's refusals become PermanentDeliveryError (no retries); network faults and
 * Slack's 5xx are retried by the delivery queue, never by running the model again.
 */
export function createSlackDeliveryHandlers(
  options: SlackDeliveryOptions,
): DeliveryHandlers<'slack'> {
  const { client, logger } = options;
  const progress = new ProgressMessages(
    {
      post: async (channel, threadTs, text) => {
        const posted = await client.chat.postMessage({ channel, thread_ts: threadTs, text });
        if (!posted.ts) throw new Error('chat.postMessage returned no ts');
        return posted.ts;
      },
      update: async (channel, ts, text) => {
        await client.chat.update({ channel, ts, text });
      },
    },
    options.progressIntervalMs ?? 3000,
  );

  async function knownProgressTs(target: SlackTarget, jobId: string): Promise<string | undefined> {
    return target.progressMessageTs ?? (await options.progressStore.get(jobId));
  }

  /** Replaces the progress message with `text`, or posts `text` in the thread when there is none. */
  async function say(target: SlackTarget, progressTs: string | undefined, text: string) {
    if (progressTs) {
      await slackCall(() => client.chat.update({ channel: target.channel, ts: progressTs, text }));
    } else {
      await slackCall(() =>
        client.chat.postMessage({ channel: target.channel, thread_ts: target.threadTs, text }),
      );
    }
  }

  async function markMessage(target: SlackTarget, outcome: 'done' | 'failed') {
    const timestamp = target.reactionTs;
    if (!timestamp) return;
    const channel = target.channel;
    await ignoreReactionState(() =>
      client.reactions.remove({ channel, timestamp, name: reactions.pending }),
    ).catch((error: unknown) => logger.warn({ err: error }, 'could not remove the reaction'));
    await ignoreReactionState(() =>
      client.reactions.add({ channel, timestamp, name: reactions[outcome] }),
    ).catch((error: unknown) => logger.warn({ err: error }, 'could not add the reaction'));
  }

  async function upload(target: SlackTarget, result: ResultOutcome, shownName: string) {
    const dir = await mkdtemp(join(tmpdir(), 'bgremover-slack-upload-'));
    try {
      const path = join(dir, safeFileName(result.filename));
      try {
        await options.storage.downloadToFile(result.resultKey, path);
      } catch (error) {
        if (error instanceof StorageNotFoundError) {
          throw new PermanentDeliveryError('the result expired before it could be posted');
        }
        throw error;
      }
      await slackCall(() =>
        client.filesUploadV2({
          channel_id: target.channel,
          thread_ts: target.threadTs,
          file: path,
          filename: result.filename,
          title: result.filename,
          initial_comment: `${mention(target.userId)}${shownName} without its background.${warningLines(result.warnings)}`,
        }),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  return {
    async deliver(data: SlackDelivery) {
      const { target, outcome } = data;
      const progressTs = await progress.finish(
        data.conversionJobId,
        await knownProgressTs(target, data.conversionJobId),
      );
      if (outcome.kind === 'failure') {
        const name = target.filename ? ` from ${escapeMrkdwn(target.filename)}` : '';
        await say(
          target,
          progressTs,
          `:x: ${mention(target.userId)}I could not remove the background${name}: ${escapeMrkdwn(outcome.message)}`,
        );
        await markMessage(target, 'failed');
        return;
      }
      const shownName = escapeMrkdwn(target.filename ?? outcome.filename);
      if (outcome.bytes > options.maxUploadBytes) {
        await say(target, progressTs, oversizeText(target, outcome, options));
        await markMessage(target, 'done');
        return;
      }
      await upload(target, outcome, shownName);
      // Done only now that the upload went through; a failed edit must not upload again.
      if (progressTs) {
        await client.chat
          .update({
            channel: target.channel,
            ts: progressTs,
            text: `:white_check_mark: ${shownName}: done`,
          })
          .catch((error: unknown) => logger.warn({ err: error }, 'could not mark progress done'));
      }
      await markMessage(target, 'done');
    },

    async onGaveUp(data: SlackDelivery, error: Error) {
      const { target } = data;
      const what = target.filename ? escapeMrkdwn(target.filename) : 'your file';
      const reason = gaveUpReason(error);
      const text = `:x: ${mention(target.userId)}I could not post the result for ${what}: ${reason}`;
      const progressTs = await knownProgressTs(target, data.conversionJobId);
      try {
        await say(target, progressTs, text);
      } catch (sayError) {
        logger.info({ err: sayError }, 'could not report in the thread; sending a DM');
        if (target.userId) await client.chat.postMessage({ channel: target.userId, text });
      }
      await markMessage(target, 'failed');
    },

    async progress(target: SlackTarget, update: JobProgress, jobId: string) {
      const existingTs = progress.has(jobId) ? undefined : await knownProgressTs(target, jobId);
      const worthShowing =
        update.framesTotal !== undefined || existingTs !== undefined || progress.has(jobId);
      if (!worthShowing) return;
      await progress.show(
        jobId,
        { channel: target.channel, threadTs: target.threadTs, existingTs },
        progressText(target.filename ?? 'your file', update),
      );
    },
  };
}

/** What the person is told when a delivery will not be retried again. */
function gaveUpReason(error: Error): string {
  const code = error instanceof PermanentDeliveryError ? error.code : undefined;
  if (code === 'not_in_channel' || code === 'channel_not_found') {
    return 'I am no longer in that conversation (invite me back with `/invite`, then ask again)';
  }
  if (code === 'is_archived') return 'the channel was archived';
  if (error instanceof PermanentDeliveryError && code === undefined)
    return escapeMrkdwn(error.message);
  if (code !== undefined) return `Slack refused it (${code})`;
  return 'Slack could not be reached for a long time';
}

/** The message for a result over the upload limit: a link to the API's copy, or why there is none. */
function oversizeText(
  target: SlackTarget,
  result: ResultOutcome,
  options: Pick<SlackDeliveryOptions, 'maxUploadBytes' | 'publicBaseUrl'>,
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
 * permanent error) becomes a PermanentDeliveryError carrying Slack's error code.
 */
async function slackCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    const code = slackErrorCode(error);
    if (code !== undefined && !transientSlackErrors.has(code)) {
      throw new PermanentDeliveryError(`Slack refused the call: ${code}`, code);
    }
    throw error;
  }
}

/** Adding a reaction that is there, or removing one that is not, is not an error here. */
async function ignoreReactionState(call: () => Promise<unknown>): Promise<void> {
  try {
    await call();
  } catch (error) {
    const code = slackErrorCode(error);
    if (code === 'already_reacted' || code === 'no_reaction') return;
    throw error;
  }
}
