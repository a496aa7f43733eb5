import { parseEnvironment } from '@bgremover/core';
import { z } from 'zod';
import type { DiscordReplyAdapterOptions } from './discord-adapter.js';

/** The worker's Discord delivery variables (see README "Discord bot"). */
export const discordDeliveryEnvSchema = z.object({
  DISCORD_TOKEN: z.string().min(1).optional(),
  DISCORD_API_URL: z.url().optional(),
  PUBLIC_BASE_URL: z.url().optional(),
});

/**
 * The Discord adapter's settings from the environment, or undefined when DISCORD_TOKEN is not
 * set (this worker then does not deliver to Discord). Throws naming a malformed variable.
 */
export function loadDiscordDeliveryConfig(
  env: NodeJS.ProcessEnv = process.env,
): DiscordReplyAdapterOptions | undefined {
  const v = parseEnvironment(discordDeliveryEnvSchema, env);
  if (!v.DISCORD_TOKEN) return undefined;
  return {
    token: v.DISCORD_TOKEN,
    ...(v.DISCORD_API_URL ? { apiUrl: v.DISCORD_API_URL } : {}),
    ...(v.PUBLIC_BASE_URL ? { publicBaseUrl: v.PUBLIC_BASE_URL } : {}),
  };
}
