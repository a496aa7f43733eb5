import type { AddressInfo } from 'node:net';
import {
  openProducerConnections,
  openStorage,
  type RunningDeliveryWorker,
  serviceLogger,
  startDeliveryWorker,
} from '@bgremover/jobs';
import { App, type CustomRoute, type webApi } from '@slack/bolt';
import type { Logger } from 'pino';
import { boltLogger } from './bolt-logger.js';
import type { SlackAppConfig } from './config.js';
import { ProgressMessageStore } from './delivery/progress-store.js';
import { createSlackDeliveryHandlers } from './delivery/slack-delivery.js';
import { EventClaims } from './event-claims.js';
import { registerAppHome } from './handlers/app-home.js';
import type { HandlerDeps } from './handlers/deps.js';
import { registerMessageShortcuts } from './handlers/message-shortcuts.js';
import { registerOptionsSubmission } from './handlers/options-submission.js';
import { registerReactionTrigger } from './handlers/reaction-trigger.js';
import { registerSlashCommand } from './handlers/slash-command.js';

export interface StartSlackAppOptions {
  logger?: Logger;
  /** The Web API client's retries (its default retries for about 30 minutes; tests use none). */
  retryConfig?: webApi.RetryOptions;
  /** How often a progress message is edited at most (default 3000 ms; tests use less). */
  progressIntervalMs?: number;
  /** Deliveries posted at once (default 4). */
  deliveryConcurrency?: number;
}

export interface RunningSlackApp {
  app: App;
  /** The app's delivery worker (results, failures and progress of its jobs). */
  delivery: RunningDeliveryWorker;
  /** HTTP mode: the port Slack's requests are received on (SLACK_PORT=0 picks a free one). */
  port: number | undefined;
  /**
   * Stops receiving requests, waits for the ones in hand to finish queuing their jobs, stops
   * the delivery worker (the deliveries in hand finish) and closes the connections. Queued
   * jobs and deliveries stay in Redis for the workers and for the next start.
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
 * `/removebg`, the reaction trigger (each downloading files into storage and adding jobs to
 * the conversion queue) and the App Home tab; and its delivery worker, which posts every
 * result, failure and progress message of Slack jobs. The app makes every Slack call.
 */
export async function startSlackApp(
  config: SlackAppConfig,
  options: StartSlackAppOptions = {},
): Promise<RunningSlackApp> {
  const logger = options.logger ?? serviceLogger('slack', config.logLevel);
  // Through a Redis outage: logged (once per 10 s), not printed as "Unhandled error event".
  const connections = openProducerConnections(config.jobs, logger);
  const { queue, redis } = connections;
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

  const storage = openStorage(config.jobs);
  const progressStore = new ProgressMessageStore(
    redis,
    config.jobs.queueName,
    config.jobs.resultTtlMs,
  );
  const deps: HandlerDeps = {
    config,
    queue,
    storage,
    redis,
    claims: new EventClaims(redis, config.jobs.queueName),
    progressStore,
    logger,
    track,
  };
  registerMessageShortcuts(app, deps);
  registerOptionsSubmission(app, deps);
  registerSlashCommand(app, deps);
  registerReactionTrigger(app, deps);
  registerAppHome(app, deps);
  app.error(async (error) => {
    logger.error({ err: error }, 'a Slack listener failed');
  });

  const delivery = await startDeliveryWorker({
    redisUrl: config.jobs.redisUrl,
    conversionQueueName: config.jobs.queueName,
    platform: 'slack',
    handlers: createSlackDeliveryHandlers({
      client: app.client,
      storage,
      progressStore,
      logger,
      maxUploadBytes: config.maxUploadBytes,
      publicBaseUrl: config.publicBaseUrl,
      ...(options.progressIntervalMs !== undefined
        ? { progressIntervalMs: options.progressIntervalMs }
        : {}),
    }),
    logger,
    ...(options.deliveryConcurrency !== undefined
      ? { concurrency: options.deliveryConcurrency }
      : {}),
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
    delivery,
    port,
    close: async () => {
      await app.stop();
      await Promise.allSettled([...inFlight]);
      await delivery.close();
      await connections.close();
    },
  };
}
