#!/usr/bin/env node
/**
 * bgremover-worker: takes conversion jobs from the queue and runs them until SIGTERM/SIGINT,
 * then finishes the jobs in hand and exits. Configuration is the environment (README).
 */
import { runService } from '@bgremover/jobs';
import { loadWorkerConfig } from './config.js';
import { startConversionWorker } from './worker.js';

await runService(
  'worker',
  loadWorkerConfig,
  (config, logger) =>
    startConversionWorker(config, { logger: logger.child({ worker: config.workerId }) }),
  // A parent that started this process with an IPC channel (the tests) learns it is ready.
  (running, config) =>
    process.send?.({ type: 'ready', healthPort: running.healthPort, workerId: config.workerId }),
);
