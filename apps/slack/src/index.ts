/**
 * @bgremover/slack: the Slack app. Message shortcuts, `/removebg` and a reaction trigger turn
 * Slack files into conversion jobs (the app downloads them into storage with its bot token);
 * its delivery worker posts the results, failures and progress back into Slack.
 */
export * from './app.js';
export * from './command-text.js';
export * from './config.js';
export * from './conversation-access.js';
export * from './file-download.js';
export * from './file-plan.js';
export * from './options-modal.js';
export * from './removal-options.js';
export * from './slack-files.js';
export * from './start-request.js';
