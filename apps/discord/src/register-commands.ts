import { REST, Routes } from 'discord.js';
import { allCommands } from './commands.js';

/** Where commands are registered: one guild (instant, for development) or every guild. */
export type RegistrationScope = { kind: 'guild'; guildId: string } | { kind: 'global' };

export interface RegistrationSettings {
  token: string;
  applicationId: string;
  apiUrl: string | undefined;
}

/**
 * Replaces the application's commands in `scope` with `/removebg` and "Remove background"
 * (a bulk overwrite: running it again is harmless). Returns the names Discord acknowledged.
 * Global commands can take up to an hour to appear; guild commands appear at once.
 */
export async function registerCommands(
  settings: RegistrationSettings,
  scope: RegistrationScope,
): Promise<string[]> {
  const rest = new REST({
    version: '10',
    ...(settings.apiUrl ? { api: settings.apiUrl } : {}),
  }).setToken(settings.token);
  const route =
    scope.kind === 'guild'
      ? Routes.applicationGuildCommands(settings.applicationId, scope.guildId)
      : Routes.applicationCommands(settings.applicationId);
  const saved = (await rest.put(route, { body: allCommands(scope.kind) })) as { name: string }[];
  return saved.map((command) => command.name);
}

/**
 * Reads `--guild <id>` or `--global` from the command line, falling back to DISCORD_DEV_GUILD_ID;
 * throws a usage message when neither says where to register.
 */
export function parseRegistrationScope(
  argv: readonly string[],
  devGuildId: string | undefined,
): RegistrationScope {
  if (argv.includes('--global')) return { kind: 'global' };
  const flag = argv.indexOf('--guild');
  if (flag >= 0) {
    const guildId = argv[flag + 1];
    if (!guildId || !/^\d+$/.test(guildId))
      throw new Error('--guild needs the numeric id of the server (guild)');
    return { kind: 'guild', guildId };
  }
  if (devGuildId) return { kind: 'guild', guildId: devGuildId };
  throw new Error(
    'Say where to register: --guild <id> (development, instant), --global (production), or set DISCORD_DEV_GUILD_ID',
  );
}
