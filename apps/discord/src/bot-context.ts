import type { ConversionJobData, ConversionJobResult } from '@bgremover/jobs';
import type { Queue } from 'bullmq';
import type { Attachment } from 'discord.js';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { AttachmentInfo } from './attachments.js';
import type { DiscordConfig } from './config.js';
import type { JobLimitSettings } from './job-limits.js';
import type { PrepareSettings } from './prepare-file.js';

/** What every handler needs: settings, the queue, Redis for limits and de-duplication, a log. */
export interface BotContext {
  config: DiscordConfig;
  queue: Queue<ConversionJobData, ConversionJobResult>;
  redis: Redis;
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
