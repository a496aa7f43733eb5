import type { StartWorkerOptions } from '../worker.js';
import type { ReplyAdapters } from './adapter.js';
import { createDiscordReplyAdapter } from './discord-adapter.js';
import { loadDiscordDeliveryConfig } from './discord-config.js';
import { createSlackReplyAdapter } from './slack-adapter.js';
import { loadSlackDeliveryConfig } from './slack-config.js';

/**
 * The chat delivery a worker is configured for: a Discord adapter when DISCORD_TOKEN is set, a
 * Slack adapter (and the bot token for fetching Slack files) when SLACK_BOT_TOKEN is set. The
 * api adapter is always present in the worker itself.
 */
export function chatDeliveryFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): Pick<StartWorkerOptions, 'adapters' | 'slackBotToken'> & { kinds: string[] } {
  const adapters: ReplyAdapters = {};
  const discord = loadDiscordDeliveryConfig(env);
  if (discord) adapters.discord = createDiscordReplyAdapter(discord);
  const slack = loadSlackDeliveryConfig(env);
  if (slack) adapters.slack = createSlackReplyAdapter(slack);
  return {
    adapters,
    ...(slack ? { slackBotToken: slack.token } : {}),
    kinds: ['api', ...Object.keys(adapters)],
  };
}
