/**
 * @bgremover/slack: the Slack app. Message shortcuts, `/removebg` and a reaction trigger turn
 * Slack files into conversion jobs; the worker's Slack adapter posts the results back.
 */
export * from './app.js';
export * from './command-text.js';
export * from './config.js';
export * from './options-modal.js';
export * from './removal-options.js';
export * from './slack-files.js';
export * from './start-jobs.js';
