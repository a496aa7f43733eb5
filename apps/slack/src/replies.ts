import type { webApi } from '@slack/bolt';
import type { Logger } from 'pino';
import type { Refusal, StartedJob } from './file-plan.js';
import { escapeMrkdwn, listNames } from './text.js';

/** The reactions the reaction trigger shows (delivery swaps `pending` for `done` or `failed`). */
export const reactions = { pending: 'hourglass', done: 'white_check_mark', failed: 'x' } as const;

/**
 * What the requester is told once their request is queued: which files are being worked on and
 * where the results will appear, then one line per file that was refused and why.
 */
export function requestSummary(
  outcome: { started: readonly StartedJob[]; refused: readonly Refusal[] },
  noFilesText: string,
): string {
  const lines: string[] = [];
  if (outcome.started.length > 0) {
    const names = listNames(outcome.started.map((job) => escapeMrkdwn(job.name)));
    lines.push(
      `:hourglass: Removing the background from ${names}; the result${outcome.started.length > 1 ? 's' : ''} will appear in the thread.`,
    );
  } else if (outcome.refused.length === 0) {
    lines.push(noFilesText);
  } else {
    lines.push(':x: I could not start anything:');
  }
  for (const refusal of outcome.refused) lines.push(`• ${escapeMrkdwn(refusal.reason)}`);
  return lines.join('\n');
}

/** Where a private notice for one person goes. */
export interface NoticeTarget {
  channel: string;
  user: string;
  /**
   * The interaction's response_url (slash commands, shortcuts, and the modals they open): an
   * ephemeral answer through it is always shown, thread or not (it works 5 times in 30 min).
   */
  responseUrl?: string | undefined;
}

/**
 * Tells one person something only they see: through the interaction's response_url when there
 * is one, else an ephemeral message at the conversation's top level (never into a thread: Slack
 * does not show an ephemeral in a thread that has no replies yet), else a direct message from
 * the app. Never throws; a failure is logged.
 */
export async function tellUser(
  client: webApi.WebClient,
  where: NoticeTarget,
  text: string,
  logger: Logger,
): Promise<void> {
  if (where.responseUrl) {
    try {
      const response = await fetch(where.responseUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ response_type: 'ephemeral', replace_original: false, text }),
        signal: AbortSignal.timeout(10_000),
      });
      await response.body?.cancel();
      if (response.ok) return;
      logger.info({ status: response.status }, 'response_url refused (expired or used up)');
    } catch (error) {
      logger.info({ err: error }, 'response_url failed; posting an ephemeral');
    }
  }
  try {
    await client.chat.postEphemeral({ channel: where.channel, user: where.user, text });
    return;
  } catch (error) {
    logger.info({ err: error, channel: where.channel }, 'ephemeral reply failed; sending a DM');
  }
  try {
    await client.chat.postMessage({ channel: where.user, text });
  } catch (error) {
    logger.warn({ err: error, user: where.user }, 'could not reach the user');
  }
}

/** Adds a reaction to a message; one that is already there is fine, other failures are logged. */
export async function react(
  client: webApi.WebClient,
  message: { channel: string; ts: string },
  name: string,
  logger: Logger,
): Promise<void> {
  try {
    await client.reactions.add({ channel: message.channel, timestamp: message.ts, name });
  } catch (error) {
    if (slackErrorCode(error) === 'already_reacted') return;
    logger.warn({ err: error, reaction: name }, 'could not add the reaction');
  }
}

/** Slack's error code (`not_in_channel`, …) of a failed Web API call, if it is one. */
export function slackErrorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('data' in error)) return undefined;
  const data = (error as { data: unknown }).data;
  if (typeof data !== 'object' || data === null || !('error' in data)) return undefined;
  const code = (data as { error: unknown }).error;
  return typeof code === 'string' ? code : undefined;
}
