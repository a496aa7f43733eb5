import { parseEnvironment } from '@bgremover/core';
import { z } from 'zod';
import type { SlackReplyAdapterOptions } from './slack-adapter.js';

/** The worker's Slack delivery variables (see README "Slack app"). */
export const slackDeliveryEnvSchema = z.object({
  SLACK_BOT_TOKEN: z.string().startsWith('xoxb-', 'must be a bot token (xoxb-…)').optional(),
  SLACK_API_URL: z.url().optional(),
  PUBLIC_BASE_URL: z.url().optional(),
  SLACK_MAX_UPLOAD_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(100 * 1024 * 1024),
});

/**
 * The Slack adapter's settings from the environment, or undefined when SLACK_BOT_TOKEN is not
 * set (this worker then does not deliver to Slack). Throws naming a malformed variable.
 */
export function loadSlackDeliveryConfig(
  env: NodeJS.ProcessEnv = process.env,
): SlackReplyAdapterOptions | undefined {
  const v = parseEnvironment(slackDeliveryEnvSchema, env);
  if (!v.SLACK_BOT_TOKEN) return undefined;
  return {
    token: v.SLACK_BOT_TOKEN,
    maxUploadBytes: v.SLACK_MAX_UPLOAD_BYTES,
    ...(v.SLACK_API_URL ? { apiUrl: v.SLACK_API_URL } : {}),
    ...(v.PUBLIC_BASE_URL ? { publicBaseUrl: v.PUBLIC_BASE_URL } : {}),
  };
}
