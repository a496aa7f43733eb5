/** @bgremover/api: the seed's HTTP API as a fastify server. */
export * from './api-keys.js';
export * from './config.js';
export * from './openapi.js';
export * from './server.js';
