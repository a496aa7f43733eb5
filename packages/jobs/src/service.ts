import type { LogLevel } from '@bgremover/core/contract';
import { type Logger, pino } from 'pino';

/** The long-running processes of the system, as they name themselves in logs. */
export type ServiceName = 'api' | 'worker' | 'discord' | 'slack';

/**
 * The logger of a long-running process: pino JSON lines on stdout, each with `service` (and
 * the given fields, e.g. the worker's id), at `level`. Every process logs this way, so one log
 * pipeline reads them all.
 */
export function serviceLogger(
  service: ServiceName,
  level: LogLevel,
  fields: Record<string, string> = {},
): Logger {
  return pino({ level, base: { service, ...fields } });
}

/** A started service: what `runService` stops on SIGTERM or SIGINT. */
export interface StoppableService {
  close(): Promise<void>;
}

/**
 * A service's entry point: reads its configuration (a bad variable is logged as fatal and the
 * process exits 1), starts it, and on SIGTERM or SIGINT logs "shutting down", closes it (the
 * service finishes what it has in hand) and exits 0, or 1 when closing fails. `ready` runs once
 * the service has started (e.g. to tell a parent process over IPC).
 */
export async function runService<C extends { logLevel: LogLevel }, S extends StoppableService>(
  service: ServiceName,
  loadConfig: () => C,
  start: (config: C, logger: Logger) => Promise<S>,
  ready?: (running: S, config: C, logger: Logger) => void,
): Promise<void> {
  let config: C;
  try {
    config = loadConfig();
  } catch (error) {
    serviceLogger(service, 'info').fatal({ err: error }, (error as Error).message);
    process.exit(1);
  }
  const logger = serviceLogger(service, config.logLevel);
  const running = await start(config, logger);
  ready?.(running, config, logger);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing the work in hand');
    running.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutting down failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
