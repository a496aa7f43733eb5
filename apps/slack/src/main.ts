#!/usr/bin/env node
/**
 * bgremover-slack: the Slack app (HTTP or Socket Mode, from the environment; see README "Slack
 * app"), with its delivery worker. On SIGTERM/SIGINT it stops receiving, lets the requests in
 * hand finish queuing their jobs and the deliveries in hand finish posting, and exits 0.
 */
import { runService } from '@bgremover/jobs';
import { startSlackApp } from './app.js';
import { loadSlackConfig } from './config.js';

await runService('slack', loadSlackConfig, (config, logger) => startSlackApp(config, { logger }));
