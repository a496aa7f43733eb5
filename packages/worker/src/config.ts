import { hostname } from 'node:os';
import {
  type CoreConfig,
  hostListField,
  loadCoreConfig,
  logLevelField,
  parseEnvironment,
} from '@bgremover/core';
import { type JobsConfig, loadJobsConfig } from '@bgremover/jobs';
import { z } from 'zod';
import { invalidPrivateEntry } from './safe-fetch.js';

/** The worker's own environment variables (core's and the queue's are read too). */
export const workerEnvSchema = z.object({
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2),
  HEALTH_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  HEALTH_HOST: z.string().default('0.0.0.0'),
  WORKER_LOCK_MS: z.coerce.number().int().min(1000).default(60_000),
  WORKER_STALLED_INTERVAL_MS: z.coerce.number().int().min(500).default(30_000),
  ATTACHMENT_HOSTS: hostListField.default(['cdn.discordapp.com', 'media.discordapp.net']),
  /**
   * Names, IP addresses and CIDRs attachment links may reach although they are loopback, private
   * or link-local, and may reach over plain http (tests, internal mirrors). Default: none.
   */
  ALLOW_PRIVATE_FETCH_HOSTS: hostListField
    .refine((entries) => invalidPrivateEntry(entries) === undefined, {
      message: 'each entry must be a host name, an IP address or a CIDR range',
    })
    .default([]),
  MAX_INPUT_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(200 * 1024 * 1024),
  FETCH_TIMEOUT_MS: z.coerce.number().int().positive().default(30_000),
  JOB_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .positive()
    .default(30 * 60_000),
  IMAGE_JOB_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .positive()
    .default(5 * 60_000),
  WORKER_ID: z.string().min(1).optional(),
  LOG_LEVEL: logLevelField,
});

export interface WorkerConfig {
  core: CoreConfig;
  jobs: JobsConfig;
  /**
   * Jobs this process runs at once. Inference is serialised on one inference thread per process;
   * 2 lets one job decode, compose and encode while another job's frame is in the model.
   */
  concurrency: number;
  healthPort: number;
  healthHost: string;
  /** How long a job's lock lasts without renewal before another worker may take it over. */
  lockDurationMs: number;
  /** How often this worker looks for jobs whose worker died. */
  stalledIntervalMs: number;
  /** Hosts attachment URLs may point at (exact names or parent domains). */
  attachmentHosts: string[];
  /** Hosts/addresses/CIDRs attachment links may reach although private (and over http). */
  allowPrivateFetchHosts: string[];
  maxInputBytes: number;
  fetchTimeoutMs: number;
  /** A video job's deadline (JOB_TIMEOUT_MS, default 30 min): past it, it fails, not retried. */
  jobTimeoutMs: number;
  /** An image job's deadline (IMAGE_JOB_TIMEOUT_MS, default 5 min). */
  imageJobTimeoutMs: number;
  /** Names this process in results and metrics (default host:pid). */
  workerId: string;
  logLevel: z.infer<typeof workerEnvSchema>['LOG_LEVEL'];
}

/** Reads every setting the worker needs from the environment; throws naming a bad variable. */
export function loadWorkerConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  const v = parseEnvironment(workerEnvSchema, env);
  return {
    core: loadCoreConfig(env),
    jobs: loadJobsConfig(env),
    concurrency: v.WORKER_CONCURRENCY,
    healthPort: v.HEALTH_PORT,
    healthHost: v.HEALTH_HOST,
    lockDurationMs: v.WORKER_LOCK_MS,
    stalledIntervalMs: v.WORKER_STALLED_INTERVAL_MS,
    attachmentHosts: v.ATTACHMENT_HOSTS,
    allowPrivateFetchHosts: v.ALLOW_PRIVATE_FETCH_HOSTS,
    maxInputBytes: v.MAX_INPUT_BYTES,
    fetchTimeoutMs: v.FETCH_TIMEOUT_MS,
    jobTimeoutMs: v.JOB_TIMEOUT_MS,
    imageJobTimeoutMs: v.IMAGE_JOB_TIMEOUT_MS,
    workerId: v.WORKER_ID ?? `${hostname()}:${process.pid}`,
    logLevel: v.LOG_LEVEL,
  };
}
