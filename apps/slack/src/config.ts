import {
  hostListField,
  logLevelField,
  parseEnvironment,
  yesNoField,
} from '@bgremover/core/contract';
import { type JobsConfig, loadJobsConfig } from '@bgremover/jobs';
import { z } from 'zod';

/** The Slack app's environment variables (the queue's are read too, see README). */
export const slackEnvSchema = z.object({
  SLACK_BOT_TOKEN: z.string().startsWith('xoxb-', 'must be a bot token (xoxb-…)'),
  SLACK_SIGNING_SECRET: z.string().min(1).optional(),
  SLACK_SOCKET_MODE: yesNoField.default(false),
  SLACK_APP_TOKEN: z.string().startsWith('xapp-', 'must be an app-level token (xapp-…)').optional(),
  SLACK_HOST: z.string().min(1).default('0.0.0.0'),
  SLACK_PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  SLACK_API_URL: z.url().optional(),
  SLACK_REACTION_EMOJI: z
    .string()
    .transform((name) => name.trim().replace(/^:|:$/g, ''))
    .pipe(z.string().regex(/^[a-z0-9_+'-]+$/, 'must be an emoji name such as scissors'))
    .default('scissors'),
  SLACK_FILE_HOSTS: hostListField.default(['files.slack.com']),
  MAX_INPUT_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(200 * 1024 * 1024),
  SLACK_MAX_FILES_PER_REQUEST: z.coerce.number().int().min(1).max(50).default(10),
  SLACK_MAX_UPLOAD_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(100 * 1024 * 1024),
  PUBLIC_BASE_URL: z.url().optional(),
  SLACK_DOWNLOAD_TIMEOUT_MS: z.coerce.number().int().positive().default(300_000),
  SLACK_QUEUE_NOTICE_AHEAD: z.coerce.number().int().min(0).default(2),
  LOG_LEVEL: logLevelField,
});

/** Everything the Slack app needs, parsed once from the environment by `loadSlackConfig`. */
export interface SlackAppConfig {
  jobs: JobsConfig;
  botToken: string;
  /** HTTP mode: Slack posts signed requests to `http://host:port/slack/events`. */
  mode:
    | { kind: 'http'; signingSecret: string; host: string; port: number }
    | { kind: 'socket'; appToken: string };
  /** The Web API's base URL (Slack's own unless set, e.g. to a test stand-in). */
  apiUrl: string | undefined;
  /** The emoji that starts jobs on the message it is added to. */
  reactionEmoji: string;
  /** Hosts (and their subdomains) file URLs must point at; the bot token goes only to them. */
  fileHosts: string[];
  /** Largest input file accepted (the app stops a download past it). */
  maxInputBytes: number;
  /** Files one request may start jobs for. */
  maxFilesPerRequest: number;
  /** Results larger than this are linked (at `publicBaseUrl`), not uploaded. */
  maxUploadBytes: number;
  /** Where people reach the API (its `/v1/files/…`), for results too large to upload. */
  publicBaseUrl: string | undefined;
  /** How long one Slack file download may take. */
  downloadTimeoutMs: number;
  /** A picture's queue position is shown when at least this many jobs are ahead of it. */
  queueNoticeAhead: number;
  logLevel: z.infer<typeof slackEnvSchema>['LOG_LEVEL'];
}

/**
 * Reads the Slack app's settings from the environment. Throws naming the variable when one is
 * malformed or missing: a signing secret in HTTP mode, an app token in Socket Mode.
 */
export function loadSlackConfig(env: NodeJS.ProcessEnv = process.env): SlackAppConfig {
  const v = parseEnvironment(slackEnvSchema, env);
  return {
    jobs: loadJobsConfig(env),
    botToken: v.SLACK_BOT_TOKEN,
    mode: connectionMode(v),
    apiUrl: v.SLACK_API_URL,
    reactionEmoji: v.SLACK_REACTION_EMOJI,
    fileHosts: v.SLACK_FILE_HOSTS,
    maxInputBytes: v.MAX_INPUT_BYTES,
    maxFilesPerRequest: v.SLACK_MAX_FILES_PER_REQUEST,
    maxUploadBytes: v.SLACK_MAX_UPLOAD_BYTES,
    publicBaseUrl: v.PUBLIC_BASE_URL,
    downloadTimeoutMs: v.SLACK_DOWNLOAD_TIMEOUT_MS,
    queueNoticeAhead: v.SLACK_QUEUE_NOTICE_AHEAD,
    logLevel: v.LOG_LEVEL,
  };
}

function connectionMode(v: z.infer<typeof slackEnvSchema>): SlackAppConfig['mode'] {
  if (v.SLACK_SOCKET_MODE) {
    if (!v.SLACK_APP_TOKEN) {
      throw new Error(
        'Invalid configuration: SLACK_APP_TOKEN is required when SLACK_SOCKET_MODE=true',
      );
    }
    return { kind: 'socket', appToken: v.SLACK_APP_TOKEN };
  }
  if (!v.SLACK_SIGNING_SECRET) {
    throw new Error(
      'Invalid configuration: SLACK_SIGNING_SECRET is required in HTTP mode (or set SLACK_SOCKET_MODE=true)',
    );
  }
  return {
    kind: 'http',
    signingSecret: v.SLACK_SIGNING_SECRET,
    host: v.SLACK_HOST,
    port: v.SLACK_PORT,
  };
}
