import type { webApi } from '@slack/bolt';
import { parseSlackFiles, type SlackFile } from './slack-files.js';

/** The parts of a message the reaction trigger needs. */
export interface FoundMessage {
  ts: string;
  threadTs: string | undefined;
  files: SlackFile[];
}

/**
 * Reads one message by channel and ts: conversations.history for messages in the channel, then
 * conversations.replies for replies in a thread. Undefined when it cannot be found; Slack's
 * refusals (`not_in_channel`, `missing_scope`) are thrown for the caller to explain.
 */
export async function findMessage(
  client: webApi.WebClient,
  channel: string,
  ts: string,
): Promise<FoundMessage | undefined> {
  const history = await client.conversations.history({
    channel,
    latest: ts,
    oldest: ts,
    inclusive: true,
    limit: 1,
  });
  const inChannel = history.messages?.find((message) => message.ts === ts);
  if (inChannel) return found(inChannel, ts);
  const replies = await client.conversations.replies({
    channel,
    ts,
    latest: ts,
    oldest: ts,
    inclusive: true,
    limit: 1,
  });
  const inThread = replies.messages?.find((message) => message.ts === ts);
  return inThread ? found(inThread, ts) : undefined;
}

function found(message: { thread_ts?: string; files?: unknown }, ts: string): FoundMessage {
  return { ts, threadTs: message.thread_ts, files: parseSlackFiles(message.files) };
}
