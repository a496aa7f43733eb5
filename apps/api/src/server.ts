import {
  ApiRequestStore,
  openConversionQueue,
  openStorage,
  serviceLogger,
  whenRedisReady,
} from '@bgremover/jobs';
import multipart from '@fastify/multipart';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { ApiConfig } from './config.js';
import { type ApiContext, errorBody } from './context.js';
import { registerKeyAdmission } from './plugins/key-admission.js';
import { isQueueUnavailable, replyQueueUnavailable } from './queue-unavailable.js';
import { registerConvertRoute } from './routes/convert.js';
import { registerFileRoutes } from './routes/files.js';
import { registerResultsRoute } from './routes/results.js';
import { registerServiceRoutes } from './routes/service.js';
import { UploadAbortedError } from './upload-guard.js';
import { registerWebPageRoutes } from './web-page.js';

export interface ApiServer {
  app: FastifyInstance;
  context: ApiContext;
  /**
   * Stops accepting connections, lets open requests finish for SHUTDOWN_GRACE_MS, then cuts
   * the uploads still arriving (503, staged files removed) and any other connection, and closes
   * Redis and the queue.
   */
  close(): Promise<void>;
}

/**
 * Builds the HTTP API (not yet listening): the seed's `/v1/convert/` and `/v1/results/`, file
 * downloads, `/healthz`, `/openapi.json`, `/docs` and the web page at `/` (web-page.ts), with
 * every error as `{"error": "..."}`.
 */
export async function buildApiServer(
  config: ApiConfig,
  options: { logger?: Logger } = {},
): Promise<ApiServer> {
  const redis = new Redis(config.jobs.redisUrl, {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
  });
  const queue = openConversionQueue(config.jobs.redisUrl, config.jobs.queueName, 'producer');
  // Both connections refuse commands until connected (no offline queue): without this wait, a
  // request arriving just after the server starts listening could fail with a 500.
  await Promise.all([whenRedisReady(redis, config.jobs.redisUrl), queue.waitUntilReady()]);
  const context: ApiContext = {
    config,
    storage: openStorage(config.jobs),
    redis,
    queue,
    requests: new ApiRequestStore(redis, config.jobs.resultTtlMs, config.jobs.queueName),
    uploads: new Set(),
  };
  const app = Fastify({
    // pino's Logger is fastify's logger; typed as the base logger so routes keep their types.
    loggerInstance: (options.logger ?? serviceLogger('api', config.logLevel)) as FastifyBaseLogger,
    // One line per accepted conversion (logged by the route) instead of two per HTTP request.
    logController: new LogController({ disableRequestLogging: true }),
    // Result names are at most 120 characters (safeFileName); fastify's default limit is 100.
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 256 },
    bodyLimit: 1024 * 1024,
    // Uploads are cut by their own idle and total limits (upload-guard.ts), which answer 408
    // and remove staged files; this is the backstop for every other request body.
    requestTimeout: config.uploadTimeoutMs + 60_000,
  });
  // How long the server spent on each request, for clients and benchmarks to tell server time
  // from network and client time (https://www.w3.org/TR/server-timing/).
  app.addHook('onSend', async (_request, reply) => {
    reply.header('server-timing', `app;dur=${reply.elapsedTime.toFixed(1)}`);
  });
  await app.register(multipart, { throwFileSizeLimit: false });
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_request, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(String(body))));
    },
  );
  // Without listeners, every failed reconnect while Redis is down is printed as an unhandled
  // error; requests meanwhile get a 503 (queue-unavailable.ts).
  redis.on('error', (error) => app.log.debug({ err: error }, 'redis connection error'));
  queue.on('error', (error) => app.log.debug({ err: error }, 'queue connection error'));
  app.setErrorHandler((error: Error & { statusCode?: number }, request, reply) => {
    const status =
      error.statusCode && error.statusCode >= 400 && error.statusCode < 600
        ? error.statusCode
        : 500;
    if (status >= 500 && isQueueUnavailable(error, redis)) {
      request.log.warn({ err: error }, 'the job queue (Redis) is unavailable');
      return replyQueueUnavailable(reply);
    }
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    reply.code(status).send(errorBody(status >= 500 ? 'Internal server error' : error.message));
  });
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send(errorBody(`No route ${request.method} ${request.url}; see /docs`));
  });
  // The routes that spend a key's allowance, in a scope of their own so that only they run the
  // key-admission hooks (401, 503, 429).
  await app.register(async (keyed) => {
    registerKeyAdmission(keyed, context);
    registerConvertRoute(keyed, context);
  });
  registerResultsRoute(app, context);
  registerFileRoutes(app, context);
  registerServiceRoutes(app, context);
  registerWebPageRoutes(app, context);
  return {
    app,
    context,
    close: async () => {
      await closeWithGrace(app, context);
      await context.queue.close();
      await redis.quit();
    },
  };
}

/**
 * Closes the server, giving open requests `shutdownGraceMs` to finish; after that, uploads
 * still arriving are cut (their clients get a 503 and their staged files are removed) and,
 * a moment later, every connection left is closed, so shutdown always completes.
 */
async function closeWithGrace(app: FastifyInstance, context: ApiContext): Promise<void> {
  const timers: NodeJS.Timeout[] = [];
  timers.push(
    setTimeout(() => {
      for (const guard of context.uploads) {
        guard.abort(
          new UploadAbortedError(503, 'The server is shutting down; send the upload again'),
        );
      }
      timers.push(setTimeout(() => app.server.closeAllConnections(), 1000));
    }, context.config.shutdownGraceMs),
  );
  try {
    await app.close();
  } finally {
    for (const timer of timers) clearTimeout(timer);
  }
}
