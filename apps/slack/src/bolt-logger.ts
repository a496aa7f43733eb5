import { format } from 'node:util';
import { type Logger as BoltLogger, LogLevel } from '@slack/bolt';
import type { Logger } from 'pino';

/**
 * Bolt's logger interface on top of our pino logger, so bolt's own messages (a bad signature,
 * an unhandled request) come out as the same JSON lines as ours, at our LOG_LEVEL.
 */
export function boltLogger(logger: Logger): BoltLogger {
  const child = logger.child({ component: 'bolt' });
  const levels: Record<string, LogLevel> = {
    trace: LogLevel.DEBUG,
    debug: LogLevel.DEBUG,
    info: LogLevel.INFO,
    warn: LogLevel.WARN,
  };
  return {
    debug: (...message: unknown[]) => child.debug(format(...message)),
    info: (...message: unknown[]) => child.info(format(...message)),
    warn: (...message: unknown[]) => child.warn(format(...message)),
    error: (...message: unknown[]) => child.error(format(...message)),
    setLevel: () => undefined,
    getLevel: () => levels[logger.level] ?? LogLevel.ERROR,
    setName: () => undefined,
  };
}
