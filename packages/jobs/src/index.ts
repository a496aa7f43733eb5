/**
 * @bgremover/jobs: the contract between producers (API, Discord, Slack) and workers: job data
 * schemas, the queue, enqueue options, storage (local disk or S3) and API request state.
 */
export * from './api-requests.js';
export * from './byte-limit.js';
export * from './config.js';
export * from './delivery.js';
export * from './delivery-worker.js';
export * from './enqueue.js';
export * from './job-data.js';
export * from './job-progress.js';
export * from './producer.js';
export * from './queue.js';
export * from './queue-position.js';
export * from './redis.js';
export * from './redis-keys.js';
export * from './result-files.js';
export * from './service.js';
export * from './storage/local-storage.js';
export * from './storage/s3-storage.js';
export * from './storage/storage.js';
export * from './storage/storage-faults.js';
