#!/usr/bin/env node
import { loadDiscordConfig } from './config.js';
import { parseRegistrationScope, registerCommands } from './register-commands.js';

/** `npm run register-commands -w @bgremover/discord -- --guild <id> | --global` */
try {
  const config = loadDiscordConfig();
  const scope = parseRegistrationScope(process.argv.slice(2), config.devGuildId);
  const names = await registerCommands(config, scope);
  const where = scope.kind === 'guild' ? `guild ${scope.guildId}` : 'every guild (global)';
  console.log(`Registered ${names.join(', ')} for ${where}`);
} catch (error) {
  console.error((error as Error).message);
  process.exitCode = 1;
}
