/**
 * @bgremover/discord: the Discord app. It turns `/removebg`, the "Remove background" message
 * command and the emoji reaction into conversion jobs, and delivers their outcomes itself (a
 * delivery worker on the Discord delivery queue, with the bot's token): workers hold no Discord
 * token.
 */
export * from './attachments.js';
export * from './bot.js';
export * from './commands.js';
export * from './config.js';
export { createDiscordDeliveryHandlers } from './delivery/discord-delivery.js';
export * from './job-limits.js';
export * from './register-commands.js';
export * from './request-params.js';
