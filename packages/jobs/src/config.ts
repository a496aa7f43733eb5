import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEnvironment, yesNoField } from '@bgremover/core/contract';
import { z } from 'zod';
import { DEFAULT_QUEUE_NAME } from './queue.js';
import { LocalStorage } from './storage/local-storage.js';
import { S3Storage, type S3StorageSettings } from './storage/s3-storage.js';
import type { Storage } from './storage/storage.js';

/** Environment variables shared by producers and workers (see README "Configuration"). */
export const jobsEnvSchema = z.object({
  REDIS_URL: z.string().min(1).default('redis://127.0.0.1:6379'),
  QUEUE_NAME: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/)
    .default(DEFAULT_QUEUE_NAME),
  STORAGE_DRIVER: z.enum(['local', 's3']).default('local'),
  STORAGE_DIR: z.string().min(1).optional(),
  S3_BUCKET: z.string().min(1).optional(),
  S3_REGION: z.string().min(1).default('us-east-1'),
  S3_ENDPOINT: z.url().optional(),
  S3_FORCE_PATH_STYLE: yesNoField.default(false),
  S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  S3_PREFIX: z.string().default(''),
  RESULT_TTL_HOURS: z.coerce.number().positive().default(24),
  /** How long a worker keeps retrying a storage fault that may pass (full, read-only, offline). */
  STORAGE_RETRY_BUDGET_MS: z.coerce
    .number()
    .int()
    .min(0)
    .default(5 * 60_000),
});

/** Settings for the queue and storage, parsed once by `loadJobsConfig`. */
export interface JobsConfig {
  redisUrl: string;
  queueName: string;
  /** How long results, uploaded inputs and API request records are kept. */
  resultTtlMs: number;
  /** How long a storage fault that may pass is retried before the job fails. */
  storageRetryBudgetMs: number;
  storage: { driver: 'local'; dir: string } | ({ driver: 's3' } & S3StorageSettings);
}

/** Reads queue and storage settings from the environment; throws naming a bad variable. */
export function loadJobsConfig(env: NodeJS.ProcessEnv = process.env): JobsConfig {
  const v = parseEnvironment(jobsEnvSchema, env);
  const resultTtlMs = v.RESULT_TTL_HOURS * 3600 * 1000;
  if (v.STORAGE_DRIVER === 'local') {
    return {
      redisUrl: v.REDIS_URL,
      queueName: v.QUEUE_NAME,
      resultTtlMs,
      storageRetryBudgetMs: v.STORAGE_RETRY_BUDGET_MS,
      storage: { driver: 'local', dir: v.STORAGE_DIR ?? join(tmpdir(), 'bgremover-storage') },
    };
  }
  if (!v.S3_BUCKET)
    throw new Error('Invalid configuration: S3_BUCKET is required when STORAGE_DRIVER=s3');
  if (Boolean(v.S3_ACCESS_KEY_ID) !== Boolean(v.S3_SECRET_ACCESS_KEY)) {
    throw new Error(
      'Invalid configuration: set both S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY, or neither',
    );
  }
  return {
    redisUrl: v.REDIS_URL,
    queueName: v.QUEUE_NAME,
    resultTtlMs,
    storageRetryBudgetMs: v.STORAGE_RETRY_BUDGET_MS,
    storage: {
      driver: 's3',
      bucket: v.S3_BUCKET,
      region: v.S3_REGION,
      endpoint: v.S3_ENDPOINT,
      forcePathStyle: v.S3_FORCE_PATH_STYLE,
      credentials:
        v.S3_ACCESS_KEY_ID && v.S3_SECRET_ACCESS_KEY
          ? { accessKeyId: v.S3_ACCESS_KEY_ID, secretAccessKey: v.S3_SECRET_ACCESS_KEY }
          : undefined,
      prefix: v.S3_PREFIX,
    },
  };
}

/** Opens the storage the configuration describes. */
export function openStorage(config: Pick<JobsConfig, 'storage'>): Storage {
  const settings = config.storage;
  return settings.driver === 'local' ? new LocalStorage(settings.dir) : new S3Storage(settings);
}
