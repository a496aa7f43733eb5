#!/usr/bin/env node
/**
 * bgremover-slack: the Slack app (HTTP or Socket Mode, from the environment; see README "Slack
 * app"), with its delivery worker. On SIGTERM/SIGINT it stops receiving, lets the requests in
 * hand finish queuing their jobs and the deliveries in hand finish posting, and exits 0.
 */
import { startSlackApp } from './app.js';
import { loadSlackConfig } from './config.js';

const running = await startSlackApp(loadSlackConfig());

let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  process.stdout.write(`${JSON.stringify({ msg: 'shutting down', signal })}\n`);
  await running.close();
  process.exit(0);
}
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));
