import type { AddressInfo } from 'node:net';
import { logRedisErrors, openConversionQueue, reconnectDelayMs } from '@bgremover/jobs';
import { App, type CustomRoute, type webApi } from '@slack/bolt';
import { Redis } from 'ioredis';
import { type Logger, pino } from 'pino';
import { boltLogger } from './bolt-logger.js';
import type { SlackAppConfig } from './config.js';
import { EventClaims } from './event-claims.js';
import type { HandlerDeps } from './handlers/deps.js';
import { registerMessageShortcuts } from './handlers/message-shortcuts.js';
import { registerOptionsSubmission } from './handlers/options-submission.js';
import { registerReactionTrigger } from './handlers/reaction-trigger.js';
import { registerSlashCommand } from './handlers/slash-command.js';

export interface StartSlackAppOptions {
  logger?: Logger;
  /** The Web API client's retries (its default retries for about 30 minutes; tests use none). */
  retryConfig?: webApi.RetryOptions;
}

export interface RunningSlackApp {
  app: App;
  /** HTTP mode: the port Slack's requests are received on (SLACK_PORT=0 picks a free one). */
  port: number | undefined;
  /**
   * Stops receiving requests, waits for the ones in hand to finish queuing their jobs, and closes
   * the queue connection. Jobs already queued are the workers' business and are not touched.
   */
  close(): Promise<void>;
}

const healthRoute: CustomRoute = {
  path: '/healthz',
  method: ['GET'],
  handler: (_request, response) => {
    response.writeHead(200, { 'content-type': 'text/plain' });
    response.end('ok');
  },
};

/**
 * Starts the Slack app: bolt in HTTP mode (signed requests on `/slack/events`, `/healthz`) or
 * Socket Mode, per the configuration, with the message shortcuts, the options modal,
 * `/removebg` and the reaction trigger, each adding jobs to the conversion queue.
 */
export async function startSlackApp(
  config: SlackAppConfig,
  options: StartSlackAppOptions = {},
): Promise<RunningSlackApp> {
  const logger = options.logger ?? pino({ level: config.logLevel, base: { service: 'slack' } });
  const queue = openConversionQueue(config.jobs.redisUrl, config.jobs.queueName);
  const redis = new Redis(config.jobs.redisUrl, {
    maxRetriesPerRequest: 1,
    retryStrategy: reconnectDelayMs,
  });
  // Through a Redis outage: logged (once per 10 s), not printed as "Unhandled error event".
  logRedisErrors(redis, logger, 'redis');
  logRedisErrors(queue, logger, 'queue');
  const inFlight = new Set<Promise<unknown>>();
  const track = async <T>(work: () => Promise<T>): Promise<T> => {
    const running = work();
    inFlight.add(running);
    try {
      return await running;
    } finally {
      inFlight.delete(running);
    }
  };
  const common = {
    token: config.botToken,
    logger: boltLogger(logger),
    clientOptions: {
      ...(config.apiUrl ? { slackApiUrl: config.apiUrl } : {}),
      ...(options.retryConfig ? { retryConfig: options.retryConfig } : {}),
    },
  };
  const app =
    config.mode.kind === 'socket'
      ? new App({ ...common, socketMode: true, appToken: config.mode.appToken })
      : new App({
          ...common,
          signingSecret: config.mode.signingSecret,
          customRoutes: [healthRoute],
        });

  const deps: HandlerDeps = {
    config,
    queue,
    claims: new EventClaims(redis),
    logger,
    track,
  };
  registerMessageShortcuts(app, deps);
  registerOptionsSubmission(app, deps);
  registerSlashCommand(app, deps);
  registerReactionTrigger(app, deps);
  app.error(async (error) => {
    logger.error({ err: error }, 'a Slack listener failed');
  });

  let port: number | undefined;
  if (config.mode.kind === 'http') {
    const server = await app.start({ port: config.mode.port, host: config.mode.host });
    port = (server.address() as AddressInfo).port;
    logger.info({ port, mode: 'http' }, 'slack app listening on /slack/events');
  } else {
    await app.start();
    logger.info({ mode: 'socket' }, 'slack app connected in Socket Mode');
  }

  return {
    app,
    port,
    close: async () => {
      await app.stop();
      await Promise.allSettled([...inFlight]);
      await queue.close();
      await redis.quit();
    },
  };
}
