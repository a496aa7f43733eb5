#!/usr/bin/env node
/**
 * bgremover-worker: takes conversion jobs from the queue and runs them until SIGTERM/SIGINT,
 * then finishes the jobs in hand and exits. Configuration is the environment (README).
 */
import { loadWorkerConfig } from './config.js';
import { startConversionWorker } from './worker.js';

const config = loadWorkerConfig();
const running = await startConversionWorker(config);
// A parent that started this process with an IPC channel (the tests) learns it is ready.
process.send?.({ type: 'ready', healthPort: running.healthPort, workerId: config.workerId });

let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  process.stdout.write(
    `${JSON.stringify({ msg: 'shutting down', signal, worker: config.workerId })}\n`,
  );
  await running.close();
  process.exit(0);
}
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));
