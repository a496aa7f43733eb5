/**
 * An emoji as the reaction routes want it: a unicode emoji URL-encoded, a custom emoji
 * (`<:name:id>` or `<a:name:id>`, as people paste it) as `name:id` URL-encoded
 * (https://discord.com/developers/docs/resources/message#create-reaction).
 */
export function reactionRouteEmoji(emoji: string): string {
  const trimmed = emoji.trim();
  const custom = /^<a?:(\w+):(\d+)>$/.exec(trimmed) ?? /^:?(\w+):(\d+)$/.exec(trimmed);
  if (custom) return encodeURIComponent(`${custom[1]}:${custom[2]}`);
  return encodeURIComponent(trimmed);
}
