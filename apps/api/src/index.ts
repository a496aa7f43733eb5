/** @bgremover/api: the HTTP API of docs/protocol.md (the protocol we speak) as a fastify server. */
export * from './api-keys.js';
export * from './config.js';
export * from './openapi.js';
export * from './server.js';
