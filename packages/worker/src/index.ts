/**
 * @bgremover/worker: the BullMQ worker that runs core on conversion jobs, stores results, answers
 * API requests and hands chat outcomes to the chat apps' delivery queues.
 */
export * from './config.js';
export * from './errors.js';
export * from './fetch-input.js';
export * from './metrics.js';
export * from './process-job.js';
export * from './reply/adapter.js';
export * from './reply/api-adapter.js';
export * from './reply/delivery-queue-adapter.js';
export * from './run-media.js';
export * from './worker.js';
