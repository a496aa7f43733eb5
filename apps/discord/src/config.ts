import {
  hostListField,
  logLevelField,
  parseEnvironment,
  type VideoFormat,
  videoFormats,
  yesNoField,
} from '@bgremover/core/contract';
import { type JobsConfig, loadJobsConfig } from '@bgremover/jobs';
import { z } from 'zod';

const optionalText = z.string().min(1).optional();
const count = (fallback: number) => z.coerce.number().int().min(0).default(fallback);

/** The bot's environment variables (the queue's, from @bgremover/jobs, are read too). */
export const discordEnvSchema = z.object({
  DISCORD_TOKEN: z.string({ error: 'DISCORD_TOKEN is required (the bot token)' }).min(1),
  DISCORD_APPLICATION_ID: z
    .string({ error: 'DISCORD_APPLICATION_ID is required (the application id)' })
    .regex(/^\d+$/, { error: 'must be the numeric application id' }),
  /** REST base URL without the version; for proxies and the tests' stand-in. */
  DISCORD_API_URL: z.url().optional(),
  /** Guild the register script targets for development (instant updates). */
  DISCORD_DEV_GUILD_ID: optionalText,
  /** Hosts (and their subdomains) attachments may come from. */
  DISCORD_ATTACHMENT_HOSTS: hostListField.default(['cdn.discordapp.com', 'media.discordapp.net']),
  /**
   * Hosts the workers fetch links from (the workers' own variable, read here so that
   * `/removebg url:` refuses at once a link the workers would refuse).
   */
  ATTACHMENT_HOSTS: hostListField.default(['cdn.discordapp.com', 'media.discordapp.net']),
  /** The emoji reaction trigger; off drops the privileged MessageContent intent. */
  DISCORD_REACTION_TRIGGER: yesNoField.default(true),
  REACTION_EMOJI: z.string().min(1).default('✂️'),
  PENDING_EMOJI: z.string().min(1).default('⏳'),
  /** Largest input accepted, in megabytes. */
  DISCORD_MAX_INPUT_MB: z.coerce.number().positive().default(25),
  /** Longest video accepted, in seconds. */
  DISCORD_MAX_VIDEO_SECONDS: z.coerce.number().positive().default(60),
  /** Frames one video job may write: the workers' MAX_VIDEO_FRAMES (the same variable). */
  MAX_VIDEO_FRAMES: z.coerce.number().int().positive().default(18_000),
  /** Jobs one person may start per window (0 = no limit). */
  DISCORD_USER_JOB_LIMIT: count(20),
  /** Jobs one server may start per window (0 = no limit). */
  DISCORD_GUILD_JOB_LIMIT: count(200),
  DISCORD_JOB_LIMIT_WINDOW_SECONDS: z.coerce.number().int().positive().default(3600),
  /** Attachments processed from one message (context menu). */
  DISCORD_MAX_FILES_PER_MESSAGE: z.coerce.number().int().min(1).max(10).default(4),
  /** Video format when the person picks none (webm: VP9 with alpha, plays in Discord). */
  DISCORD_DEFAULT_VIDEO_FORMAT: z.enum(videoFormats).default('webm'),
  /** The API's public address: results over Discord's upload limit are linked to `/v1/files/...`. */
  PUBLIC_BASE_URL: z.url().optional(),
  /** Least time between two progress edits of one job's message (milliseconds). */
  DISCORD_PROGRESS_INTERVAL_MS: z.coerce.number().int().min(0).default(4_000),
  /**
   * A Discord CDN link that expires sooner than this (seconds) is copied into storage before
   * the job is queued, so that a job waiting in a long queue does not find the link dead.
   */
  DISCORD_URL_MIN_LIFETIME_SECONDS: z.coerce
    .number()
    .int()
    .min(0)
    .default(6 * 3600),
  /** Deliveries the app posts at once. */
  DISCORD_DELIVERY_CONCURRENCY: z.coerce.number().int().min(1).default(4),
  LOG_LEVEL: logLevelField,
});

/** Everything the bot runs with, parsed once by `loadDiscordConfig`. */
export interface DiscordConfig {
  token: string;
  applicationId: string;
  apiUrl: string | undefined;
  devGuildId: string | undefined;
  attachmentHosts: string[];
  /** Hosts a `/removebg url:` link may point at (the workers' ATTACHMENT_HOSTS). */
  linkHosts: string[];
  reactionTrigger: boolean;
  reactionEmoji: string;
  pendingEmoji: string;
  maxInputBytes: number;
  maxVideoSeconds: number;
  maxVideoFrames: number;
  userJobLimit: number;
  guildJobLimit: number;
  jobLimitWindowSeconds: number;
  maxFilesPerMessage: number;
  defaultVideoFormat: VideoFormat;
  publicBaseUrl: string | undefined;
  progressIntervalMs: number;
  urlMinLifetimeMs: number;
  deliveryConcurrency: number;
  logLevel: z.infer<typeof discordEnvSchema>['LOG_LEVEL'];
  jobs: JobsConfig;
}

/** Reads the bot's settings from the environment; throws naming each bad variable. */
export function loadDiscordConfig(env: NodeJS.ProcessEnv = process.env): DiscordConfig {
  // Blank values (NAME= in an .env file) count as unset, so their defaults apply.
  const v = parseEnvironment(discordEnvSchema, env);
  return {
    token: v.DISCORD_TOKEN,
    applicationId: v.DISCORD_APPLICATION_ID,
    apiUrl: v.DISCORD_API_URL,
    devGuildId: v.DISCORD_DEV_GUILD_ID,
    attachmentHosts: v.DISCORD_ATTACHMENT_HOSTS,
    linkHosts: v.ATTACHMENT_HOSTS,
    reactionTrigger: v.DISCORD_REACTION_TRIGGER,
    reactionEmoji: v.REACTION_EMOJI,
    pendingEmoji: v.PENDING_EMOJI,
    maxInputBytes: Math.round(v.DISCORD_MAX_INPUT_MB * 1024 * 1024),
    maxVideoSeconds: v.DISCORD_MAX_VIDEO_SECONDS,
    maxVideoFrames: v.MAX_VIDEO_FRAMES,
    userJobLimit: v.DISCORD_USER_JOB_LIMIT,
    guildJobLimit: v.DISCORD_GUILD_JOB_LIMIT,
    jobLimitWindowSeconds: v.DISCORD_JOB_LIMIT_WINDOW_SECONDS,
    maxFilesPerMessage: v.DISCORD_MAX_FILES_PER_MESSAGE,
    defaultVideoFormat: v.DISCORD_DEFAULT_VIDEO_FORMAT,
    publicBaseUrl: v.PUBLIC_BASE_URL,
    progressIntervalMs: v.DISCORD_PROGRESS_INTERVAL_MS,
    urlMinLifetimeMs: v.DISCORD_URL_MIN_LIFETIME_SECONDS * 1000,
    deliveryConcurrency: v.DISCORD_DELIVERY_CONCURRENCY,
    logLevel: v.LOG_LEVEL,
    jobs: loadJobsConfig(env),
  };
}
