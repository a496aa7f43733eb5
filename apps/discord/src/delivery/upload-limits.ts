/**
 * Upload limits. The default is 10 MiB per file; a server's Boost Tier raises it
 * (https://discord.com/developers/docs/reference#uploading-files, whose Server Boosting FAQ
 * link gives level 2: 50 MiB, level 3: 100 MiB). One message request may carry at most 25 MiB
 * (https://discord.com/developers/docs/resources/message#create-message). An interaction's
 * `attachment_size_limit` is the largest of the default, the person's Nitro and the server's
 * limits, so it holds for interaction responses only, not for the bot's own messages.
 */
export const MIB = 1024 * 1024;
export const DEFAULT_UPLOAD_LIMIT = 10 * MIB;
export const MESSAGE_REQUEST_LIMIT = 25 * MIB;

/** A server's per-file upload limit by its Boost Tier (`premium_tier` 0-3). */
export function guildUploadLimit(premiumTier: number | undefined): number {
  if (premiumTier === 3) return 100 * MIB;
  if (premiumTier === 2) return 50 * MIB;
  return DEFAULT_UPLOAD_LIMIT;
}

/**
 * The largest file the bot's own message may carry: the server's limit (none in a DM: the
 * default), capped by the 25 MiB per request.
 */
export function botMessageUploadLimit(premiumTier: number | undefined): number {
  return Math.min(guildUploadLimit(premiumTier), MESSAGE_REQUEST_LIMIT);
}

/**
 * The limit a result is planned for: the interaction's `attachment_size_limit` while the
 * follow-up webhook can be used, else the bot message's (from the server's Boost Tier).
 */
export function resultUploadLimit(
  interaction: { attachmentSizeLimit: number } | undefined,
  premiumTier: number | undefined,
): number {
  return interaction ? interaction.attachmentSizeLimit : botMessageUploadLimit(premiumTier);
}
