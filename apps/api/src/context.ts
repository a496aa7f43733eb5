import type {
  ApiRequestStore,
  ConversionJobData,
  ConversionJobResult,
  Storage,
} from '@bgremover/jobs';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { ApiConfig } from './config.js';
import type { UploadGuard } from './upload-guard.js';

/** What the routes share: settings and open connections, created once per server. */
export interface ApiContext {
  config: ApiConfig;
  storage: Storage;
  redis: Redis;
  queue: Queue<ConversionJobData, ConversionJobResult>;
  requests: ApiRequestStore;
  /** The uploads being read now, so shutdown can cut them after its grace period. */
  uploads: Set<UploadGuard>;
}

/** The protocol's error body: `{"error": "..."}`. */
export function errorBody(message: string): { error: string } {
  return { error: message };
}
