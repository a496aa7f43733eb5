import type { REST } from 'discord.js';

/**
 * Discord's CDN links are signed and expire: `ex` is the expiry as hex unix seconds
 * (https://discord.com/developers/docs/reference#signed-attachment-cdn-urls).
 */

/** When a signed CDN link stops working (milliseconds since the epoch), or undefined when unsigned. */
export function signedUrlExpiry(url: string): number | undefined {
  let ex: string | null;
  try {
    ex = new URL(url).searchParams.get('ex');
  } catch {
    return undefined;
  }
  if (!ex || !/^[0-9a-f]{1,12}$/i.test(ex)) return undefined;
  return Number.parseInt(ex, 16) * 1000;
}

/** True when `url` is signed and stops working before `at` (milliseconds since the epoch). */
export function expiresBefore(url: string, at: number): boolean {
  const expiry = signedUrlExpiry(url);
  return expiry !== undefined && expiry < at;
}

interface RefreshAnswer {
  refreshed_urls?: { original?: string; refreshed?: string }[];
}

/**
 * Asks Discord for fresh signatures of attachment links (`POST /attachments/refresh-urls`, the
 * endpoint the client uses) and returns original -> refreshed; a link Discord does not refresh
 * keeps its old value.
 */
export async function refreshAttachmentUrls(
  rest: REST,
  urls: readonly string[],
): Promise<Map<string, string>> {
  const fresh = new Map<string, string>();
  if (urls.length === 0) return fresh;
  const answer = (await rest.post('/attachments/refresh-urls', {
    body: { attachment_urls: urls },
  })) as RefreshAnswer;
  for (const entry of answer.refreshed_urls ?? []) {
    if (entry.original && entry.refreshed) fresh.set(entry.original, entry.refreshed);
  }
  return fresh;
}
