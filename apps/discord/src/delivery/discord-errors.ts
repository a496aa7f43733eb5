import { DiscordAPIError, RESTJSONErrorCodes } from 'discord.js';

/**
 * Discord's answers that retrying cannot change
 * (https://discord.com/developers/docs/topics/opcodes-and-status-codes#json-json-error-codes),
 * each with what the person who asked is told.
 */
const permanentCodes: ReadonlyMap<number, string> = new Map([
  [RESTJSONErrorCodes.MissingAccess, 'the bot cannot see that channel (Missing Access)'],
  [
    RESTJSONErrorCodes.MissingPermissions,
    'the bot lacks a permission there (Send Messages, Attach Files or Add Reactions)',
  ],
  [RESTJSONErrorCodes.UnknownChannel, 'the channel no longer exists'],
  [RESTJSONErrorCodes.UnknownMessage, 'the message no longer exists'],
  [RESTJSONErrorCodes.ThreadLocked, 'the thread is locked'],
  [RESTJSONErrorCodes.InvalidActionOnArchivedThread, 'the thread is archived'],
  [RESTJSONErrorCodes.CannotSendMessagesToThisUser, 'Discord does not let the bot message you'],
]);

/** Why Discord refused for good, in words for the person, or undefined when a retry may help. */
export function permanentReason(error: unknown): string | undefined {
  if (!(error instanceof DiscordAPIError) || typeof error.code !== 'number') return undefined;
  return permanentCodes.get(error.code);
}

/** Discord's numeric error code, when the error is one of its answers. */
export function discordCode(error: unknown): number | undefined {
  return error instanceof DiscordAPIError && typeof error.code === 'number'
    ? error.code
    : undefined;
}

/** Discord's answer to an upload over the limit: 413, or error 40005. */
export function isTooLarge(error: unknown): boolean {
  return (
    error instanceof DiscordAPIError &&
    (error.code === RESTJSONErrorCodes.RequestEntityTooLarge || error.status === 413)
  );
}

/** Discord's answers once an interaction token has expired or the interaction is unknown. */
export function isExpiredInteraction(error: unknown): boolean {
  if (!(error instanceof DiscordAPIError)) return false;
  return (
    error.status === 401 ||
    error.code === RESTJSONErrorCodes.InvalidWebhookToken ||
    error.code === RESTJSONErrorCodes.UnknownWebhook ||
    error.code === RESTJSONErrorCodes.UnknownInteraction
  );
}

/** Discord's answer when a message already has its (one) thread: 160004. */
export function isThreadAlreadyCreated(error: unknown): boolean {
  return (
    error instanceof DiscordAPIError &&
    error.code === RESTJSONErrorCodes.ThreadAlreadyCreatedForMessage
  );
}
