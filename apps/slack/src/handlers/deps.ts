import type { ConversionJobData, ConversionJobResult, Storage } from '@bgremover/jobs';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { SlackAppConfig } from '../config.js';
import type { ProgressMessageStore } from '../delivery/progress-store.js';
import type { EventClaims } from '../event-claims.js';

/** What every listener needs. */
export interface HandlerDeps {
  config: SlackAppConfig;
  queue: Queue<ConversionJobData, ConversionJobResult>;
  /** Where downloaded Slack files are staged for the workers. */
  storage: Storage;
  /** A connection to the queue's Redis (claims, queue positions). */
  redis: Redis;
  claims: EventClaims;
  progressStore: ProgressMessageStore;
  logger: Logger;
  /** Runs `work` as part of the in-flight set that graceful shutdown waits for. */
  track<T>(work: () => Promise<T>): Promise<T>;
}

/** The sentence shown when a request could not be started because of a fault of ours. */
export const START_FAILED_TEXT =
  ':warning: Something went wrong while starting the job (it has been logged). Please try again in a minute.';
