import type { ConversionJobData, ConversionJobResult, Storage } from '@bgremover/jobs';
import type { Queue } from 'bullmq';
import type { Attachment, REST } from 'discord.js';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { AttachmentInfo } from './attachments.js';
import type { DiscordConfig } from './config.js';
import type { OriginalReply } from './delivery/original-reply.js';
import type { JobLimitSettings } from './job-limits.js';
import type { PrepareSettings } from './prepare-file.js';
import type { StageSettings } from './stage-input.js';

/**
 * What every handler needs: settings, the queue, Redis for limits and de-duplication, storage
 * for inputs copied in, the bot's REST client, the owner of deferred replies and a log.
 */
export interface BotContext {
  config: DiscordConfig;
  queue: Queue<ConversionJobData, ConversionJobResult>;
  redis: Redis;
  storage: Storage;
  rest: REST;
  reply: OriginalReply;
  logger: Logger;
}

/** The attachment checks' settings, from the bot's configuration. */
export function prepareSettings(config: DiscordConfig): PrepareSettings {
  return {
    attachmentHosts: config.attachmentHosts,
    maxInputBytes: config.maxInputBytes,
    maxVideoSeconds: config.maxVideoSeconds,
    maxVideoFrames: config.maxVideoFrames,
    defaultVideoFormat: config.defaultVideoFormat,
  };
}

/** How inputs reach the worker (links that expire soon are copied into storage). */
export function stageSettings(bot: BotContext): StageSettings {
  return {
    storage: bot.storage,
    minLifetimeMs: bot.config.urlMinLifetimeMs,
    maxInputBytes: bot.config.maxInputBytes,
  };
}

/** The job limits' settings, from the bot's configuration. */
export function limitSettings(config: DiscordConfig): JobLimitSettings {
  return {
    userJobLimit: config.userJobLimit,
    guildJobLimit: config.guildJobLimit,
    windowSeconds: config.jobLimitWindowSeconds,
    prefix: config.jobs.queueName,
  };
}

/** The fields of a discord.js attachment the checks use. */
export function attachmentInfo(attachment: Attachment): AttachmentInfo {
  return {
    id: attachment.id,
    name: attachment.name,
    url: attachment.url,
    size: attachment.size,
    contentType: attachment.contentType,
  };
}
