import { z } from 'zod';

/**
 * Field types every process's environment schema shares, so that `LOG_LEVEL`, host lists and
 * yes/no switches read the same everywhere. Blank values are treated as unset by
 * `parseEnvironment`, so a field's default applies to `NAME=` in an .env file.
 */

/** pino's levels, for `LOG_LEVEL` (default info). */
export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof logLevels)[number];

/** `LOG_LEVEL`: one of pino's levels, info when unset. */
export const logLevelField = z.enum(logLevels).default('info');

/** A comma-separated list of host names (or addresses), trimmed, lower-cased, blanks dropped. */
export const hostListField = z.string().transform((text) =>
  text
    .split(',')
    .map((host) => host.trim().toLowerCase())
    .filter(Boolean),
);

/** A yes/no switch: true, false, 1, 0, yes or no (any case). */
export const yesNoField = z
  .string()
  .transform((text) => text.trim().toLowerCase())
  .pipe(z.enum(['true', 'false', '1', '0', 'yes', 'no']))
  .transform((text) => text === 'true' || text === '1' || text === 'yes');
