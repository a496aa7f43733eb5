#!/usr/bin/env node
/** bgremover-api: serves the HTTP API until SIGTERM/SIGINT. Configuration is the environment. */
import { loadApiConfig } from './config.js';
import { buildApiServer } from './server.js';

const config = loadApiConfig();
const server = await buildApiServer(config);
const address = await server.app.listen({ host: config.host, port: config.port });
server.app.log.info({ address }, 'api ready');

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await server.close();
  process.exit(0);
}
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
