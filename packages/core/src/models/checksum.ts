import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { ModelSpec } from './registry.js';

/** Hex digests of a file, computed in one streaming pass. */
export async function digestFile(path: string): Promise<{ md5: string; sha256: string }> {
  const md5 = createHash('md5');
  const sha256 = createHash('sha256');
  for await (const chunk of createReadStream(path)) {
    md5.update(chunk as Buffer);
    sha256.update(chunk as Buffer);
  }
  return { md5: md5.digest('hex'), sha256: sha256.digest('hex') };
}

/**
 * Checks a file against every digest the spec pins. Returns a description of the first
 * mismatch, or undefined when all match.
 */
export async function findChecksumMismatch(
  path: string,
  spec: ModelSpec,
): Promise<string | undefined> {
  const actual = await digestFile(path);
  for (const algorithm of ['sha256', 'md5'] as const) {
    const expected = spec.checksums[algorithm];
    if (expected && expected.toLowerCase() !== actual[algorithm]) {
      return `${algorithm} is ${actual[algorithm]}, expected ${expected}`;
    }
  }
  return undefined;
}
