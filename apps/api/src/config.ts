import {
  type CoreConfig,
  loadCoreConfig,
  logLevelField,
  parseEnvironment,
} from '@bgremover/core/contract';
import { type JobsConfig, loadJobsConfig } from '@bgremover/jobs';
import { z } from 'zod';
import { type ApiKeyEntry, authenticate, parseApiKeys } from './api-keys.js';

/** The API's own environment variables (core's and the queue's are read too). */
export const apiEnvSchema = z.object({
  API_HOST: z.string().default('0.0.0.0'),
  API_PORT: z.coerce.number().int().min(0).max(65535).default(5000),
  API_KEYS: z.string().min(1, { error: 'API_KEYS must list at least one key' }),
  MAX_UPLOAD_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(2 * 1024 * 1024 * 1024),
  MAX_FILES_PER_REQUEST: z.coerce.number().int().min(1).max(1000).default(20),
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(60),
  API_KEY_RATE_LIMITS: z.string().default(''),
  MAX_FILES_IN_FLIGHT_PER_KEY: z.coerce.number().int().min(1).default(50),
  UPLOAD_IDLE_TIMEOUT_MS: z.coerce.number().int().min(1).default(30_000),
  UPLOAD_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(1)
    .default(30 * 60 * 1000),
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).default(10_000),
  WEB_PAGE_API_KEY: z.string().optional(),
  LOG_LEVEL: logLevelField,
});

export interface ApiConfig {
  core: CoreConfig;
  jobs: JobsConfig;
  host: string;
  port: number;
  apiKeys: ApiKeyEntry[];
  /** Largest single uploaded file; the protocol promises no practical limit, so it is large. */
  maxUploadBytes: number;
  maxFilesPerRequest: number;
  /** `/v1/convert/` requests per key per minute. */
  rateLimitPerMinute: number;
  /** Per-key overrides of `rateLimitPerMinute` (API_KEY_RATE_LIMITS=name=N,...). */
  rateLimitOverrides: Record<string, number>;
  /** Files a key may have queued or running at once. */
  maxFilesInFlightPerKey: number;
  /** An upload with no bytes arriving for this long is cut (408). */
  uploadIdleTimeoutMs: number;
  /** An upload still arriving after this long is cut (408). */
  uploadTimeoutMs: number;
  /** On shutdown, how long open uploads may go on before they are cut and the server closes. */
  shutdownGraceMs: number;
  logLevel: z.infer<typeof apiEnvSchema>['LOG_LEVEL'];
  /**
   * A key the web page at `/` uses for everyone who opens it (WEB_PAGE_API_KEY): off unless the
   * operator sets it, since anyone who can load the page can then read and use the key.
   */
  webPageApiKey: string | undefined;
}

/** Reads the API's settings from the environment; throws naming a bad or missing variable. */
export function loadApiConfig(env: NodeJS.ProcessEnv = process.env): ApiConfig {
  const v = parseEnvironment(apiEnvSchema, env);
  const apiKeys = parseApiKeys(v.API_KEYS);
  return {
    core: loadCoreConfig(env),
    jobs: loadJobsConfig(env),
    host: v.API_HOST,
    port: v.API_PORT,
    apiKeys,
    maxUploadBytes: v.MAX_UPLOAD_BYTES,
    maxFilesPerRequest: v.MAX_FILES_PER_REQUEST,
    rateLimitPerMinute: v.RATE_LIMIT_PER_MINUTE,
    rateLimitOverrides: parseRateLimitOverrides(v.API_KEY_RATE_LIMITS),
    maxFilesInFlightPerKey: v.MAX_FILES_IN_FLIGHT_PER_KEY,
    uploadIdleTimeoutMs: v.UPLOAD_IDLE_TIMEOUT_MS,
    uploadTimeoutMs: v.UPLOAD_TIMEOUT_MS,
    shutdownGraceMs: v.SHUTDOWN_GRACE_MS,
    logLevel: v.LOG_LEVEL,
    webPageApiKey: checkWebPageApiKey(v.WEB_PAGE_API_KEY, apiKeys),
  };
}

function parseRateLimitOverrides(text: string): Record<string, number> {
  const overrides: Record<string, number> = {};
  for (const pair of text
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)) {
    const [name, value] = pair.split('=');
    const limit = Number(value);
    if (!name || !Number.isInteger(limit) || limit < 1) {
      throw new Error(
        `Invalid configuration: API_KEY_RATE_LIMITS expects name=N, got ${JSON.stringify(pair)}`,
      );
    }
    overrides[name] = limit;
  }
  return overrides;
}

/** WEB_PAGE_API_KEY, which must be one of API_KEYS' keys (a page with a refused key is no use). */
function checkWebPageApiKey(key: string | undefined, apiKeys: ApiKeyEntry[]): string | undefined {
  if (key === undefined) return undefined;
  if (!authenticate(key, apiKeys)) {
    throw new Error(
      'Invalid configuration: WEB_PAGE_API_KEY is not one of the keys in API_KEYS (give the key itself, not its sha256)',
    );
  }
  return key;
}
