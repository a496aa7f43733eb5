#!/usr/bin/env node
/**
 * bgremover-discord: the Discord bot with its delivery worker, until SIGTERM/SIGINT, when it
 * finishes the requests and deliveries in hand and disconnects. Configuration is the
 * environment (README "Discord bot").
 */
import { runService } from '@bgremover/jobs';
import { startDiscordBot } from './bot.js';
import { loadDiscordConfig } from './config.js';

await runService('discord', loadDiscordConfig, (config, logger) =>
  startDiscordBot(config, { logger }),
);
