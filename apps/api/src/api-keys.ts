import { createHash, timingSafeEqual } from 'node:crypto';

/** One configured key: a name for logs and limits, and the SHA-256 of the secret. */
export interface ApiKeyEntry {
  id: string;
  sha256: Buffer;
}

/** SHA-256 of a key, as stored. */
export function hashApiKey(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

/**
 * Parses API_KEYS: comma-separated entries `name=sha256:<64 hex>` (recommended: the secret never
 * sits in the environment) or `name=<secret>` or a bare `<secret>` (named key1, key2...).
 */
export function parseApiKeys(text: string): ApiKeyEntry[] {
  const entries = text
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part, index) => {
      const separator = part.indexOf('=');
      const id = separator > 0 ? part.slice(0, separator) : `key${index + 1}`;
      const secret = separator > 0 ? part.slice(separator + 1) : part;
      const hashed = /^sha256:([0-9a-f]{64})$/i.exec(secret);
      return { id, sha256: hashed?.[1] ? Buffer.from(hashed[1], 'hex') : hashApiKey(secret) };
    });
  if (entries.length === 0) throw new Error('Invalid configuration: API_KEYS lists no keys');
  return entries;
}

/**
 * Finds the key a request presents. Compares hashes in constant time against every configured
 * key (no early exit), so timing reveals nothing about which keys exist.
 */
export function authenticate(
  presented: string | undefined,
  keys: readonly ApiKeyEntry[],
): string | undefined {
  if (!presented) return undefined;
  const token = presented.replace(/^(Bearer|Token)\s+/i, '').trim();
  if (!token) return undefined;
  const hash = hashApiKey(token);
  let match: string | undefined;
  for (const key of keys) {
    if (timingSafeEqual(hash, key.sha256)) match ??= key.id;
  }
  return match;
}
