/**
 * @bgremover/worker: the BullMQ worker that runs core on conversion jobs, stores results and
 * delivers them through reply adapters.
 */
export * from './config.js';
export * from './errors.js';
export * from './fetch-input.js';
export * from './metrics.js';
export * from './process-job.js';
export * from './reply/adapter.js';
export * from './reply/api-adapter.js';
export * from './reply/chat-adapters.js';
export * from './reply/discord-adapter.js';
export * from './reply/discord-config.js';
export * from './reply/slack-adapter.js';
export * from './run-media.js';
export * from './worker.js';
