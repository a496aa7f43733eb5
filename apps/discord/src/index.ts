/**
 * @bgremover/discord: the Discord bot (`/removebg`, the "Remove background" message command and
 * the emoji reaction) that turns requests into conversion jobs; the worker delivers the results.
 */
export * from './attachments.js';
export * from './bot.js';
export * from './commands.js';
export * from './config.js';
export * from './job-limits.js';
export * from './register-commands.js';
export * from './request-params.js';
