#!/usr/bin/env node
import { startDiscordBot } from './bot.js';
import { loadDiscordConfig } from './config.js';

/** The bot's entry point: configuration from the environment, shutdown on SIGTERM/SIGINT. */
let config: ReturnType<typeof loadDiscordConfig>;
try {
  config = loadDiscordConfig();
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}
const bot = await startDiscordBot(config);
let stopping = false;
const stop = (signal: string) => {
  if (stopping) return;
  stopping = true;
  console.error(`${signal}: finishing the requests in hand, then disconnecting`);
  bot.close().then(
    () => process.exit(0),
    (error: Error) => {
      console.error(error);
      process.exit(1);
    },
  );
};
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
