import {
  type DeliveryLogger,
  type RunningDeliveryWorker,
  type Storage,
  startDeliveryWorker,
} from '@bgremover/jobs';
import { type Client, Routes } from 'discord.js';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { DiscordConfig } from '../config.js';
import { createDiscordDeliveryHandlers } from './discord-delivery.js';
import type { OriginalReply } from './original-reply.js';

/**
 * Starts the app's delivery worker on the Discord delivery queue of the configured conversion
 * queue, posting with the logged-in client's REST client (the bot's token). A server's Boost Tier
 * comes from the gateway's cache, else from `GET /guilds/{id}`.
 */
export function startDiscordDelivery(
  config: DiscordConfig,
  deps: { client: Client; storage: Storage; redis: Redis; reply: OriginalReply; logger: Logger },
): Promise<RunningDeliveryWorker> {
  const { client, logger } = deps;
  const handlers = createDiscordDeliveryHandlers({
    rest: client.rest,
    storage: deps.storage,
    redis: deps.redis,
    reply: deps.reply,
    logger,
    prefix: config.jobs.queueName,
    publicBaseUrl: config.publicBaseUrl,
    progressIntervalMs: config.progressIntervalMs,
    guildPremiumTier: async (guildId) => {
      const cached = client.guilds.cache.get(guildId);
      if (cached) return cached.premiumTier;
      const guild = (await client.rest.get(Routes.guild(guildId)).catch(() => undefined)) as
        | { premium_tier?: number }
        | undefined;
      return guild?.premium_tier;
    },
  });
  return startDeliveryWorker({
    redisUrl: config.jobs.redisUrl,
    conversionQueueName: config.jobs.queueName,
    platform: 'discord',
    handlers,
    logger: logger as DeliveryLogger,
    concurrency: config.deliveryConcurrency,
  });
}
