#!/usr/bin/env node
/** bgremover-api: serves the HTTP API until SIGTERM/SIGINT. Configuration is the environment. */
import { runService } from '@bgremover/jobs';
import { loadApiConfig } from './config.js';
import { buildApiServer } from './server.js';

await runService('api', loadApiConfig, async (config, logger) => {
  const server = await buildApiServer(config, { logger });
  const address = await server.app.listen({ host: config.host, port: config.port });
  logger.info({ address }, 'api ready');
  return server;
});
