import type {
  ApiRequestStore,
  ConversionJobData,
  ConversionJobResult,
  Storage,
} from '@bgremover/jobs';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { ApiConfig } from './config.js';

/** What the routes share: settings and open connections, created once per server. */
export interface ApiContext {
  config: ApiConfig;
  storage: Storage;
  redis: Redis;
  queue: Queue<ConversionJobData, ConversionJobResult>;
  requests: ApiRequestStore;
}

/** The seed's error body: `{"error": "..."}`. */
export function errorBody(message: string): { error: string } {
  return { error: message };
}
