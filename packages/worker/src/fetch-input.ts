import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { formatBytes, isAllowedHost } from '@bgremover/core/contract';
import {
  byteLimit,
  type InputReference,
  type Storage,
  StorageNotFoundError,
  safeFileName,
} from '@bgremover/jobs';
import { InputRefusedError, TransientError } from './errors.js';
import { safeFetch } from './safe-fetch.js';

export interface FetchInputOptions {
  storage: Storage;
  /** Folder the file is written into (the job's scratch folder). */
  dir: string;
  attachmentHosts: readonly string[];
  maxBytes: number;
  timeoutMs: number;
  /**
   * Names, addresses and CIDRs that may be fetched although they are loopback/private/link-local,
   * and over plain http (ALLOW_PRIVATE_FETCH_HOSTS). Default: none.
   */
  allowPrivateHosts?: readonly string[];
  /** Redirects followed before the link is refused (default `MAX_REDIRECTS`). */
  maxRedirects?: number;
}

/**
 * Brings a job's input into a local file and returns its path: from storage, or from a chat
 * attachment URL on an allow-listed host with a size limit. Redirects are followed by hand and
 * every hop is checked again (host, https, private addresses; at most `MAX_REDIRECTS`); the auth
 * header goes to the first URL's origin only. Refusals (host not allowed, private address, 401,
 * 403, 404, a web page instead of the file, too large, expired upload) throw `InputRefusedError`;
 * timeouts, 5xx and network errors throw `TransientError` so the job is retried.
 */
export async function fetchInput(
  reference: InputReference,
  options: FetchInputOptions,
): Promise<string> {
  const target = join(options.dir, `input-${safeFileName(reference.filename)}`);
  if (reference.kind === 'storage') {
    try {
      await options.storage.downloadToFile(reference.key, target);
    } catch (error) {
      if (error instanceof StorageNotFoundError) {
        throw new InputRefusedError(
          `The uploaded file ${reference.filename} is no longer stored (expired?)`,
        );
      }
      throw new TransientError(`Storage read failed: ${(error as Error).message}`, {
        cause: error,
      });
    }
    return target;
  }
  await downloadAttachment(reference.url, target, options);
  return target;
}

/** Redirects followed for an attachment link before it is refused. */
export const MAX_REDIRECTS = 5;

/**
 * Media types that mean the platform answered with a page or an API error instead of the file
 * (a sign-in page, an expired link, a JSON error).
 */
const NOT_A_FILE = new Set([
  'text/html',
  'application/xhtml+xml',
  'application/json',
  'application/problem+json',
]);

async function downloadAttachment(
  url: string,
  target: string,
  options: FetchInputOptions,
): Promise<void> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InputRefusedError('The attachment link is not a valid URL');
  }
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  if (!isAllowedHost(host, options.attachmentHosts)) {
    throw new InputRefusedError(
      `Attachments are only fetched from ${options.attachmentHosts.join(', ')}, not ${host}`,
    );
  }
  const { response, url: finalUrl } = await safeFetch(
    { url, headers: {}, signal: AbortSignal.timeout(options.timeoutMs) },
    {
      allowedHosts: options.attachmentHosts,
      allowPrivate: options.allowPrivateHosts ?? [],
      maxRedirects: options.maxRedirects ?? MAX_REDIRECTS,
    },
  );
  const status = response.statusCode ?? 0;
  const finalHost = finalUrl.hostname;
  try {
    if (status >= 500 || status === 408 || status === 429) {
      throw new TransientError(`The attachment host answered HTTP ${status}`);
    }
    if (status === 401 || status === 403) {
      throw new InputRefusedError(
        `The platform would not give us the file: ${finalHost} answered HTTP ${status} (no access?)`,
      );
    }
    if (status < 200 || status > 299) {
      throw new InputRefusedError(`The attachment could not be fetched (HTTP ${status})`);
    }
    const mediaType = (response.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
    if (mediaType && NOT_A_FILE.has(mediaType)) {
      throw new InputRefusedError(
        `The platform would not give us the file: ${finalHost} sent ${mediaType} instead of it ` +
          '(a sign-in page, an error or an expired link?)',
      );
    }
    const declared = Number(response.headers['content-length']);
    if (declared > options.maxBytes) {
      throw new InputRefusedError(tooLarge(declared, options.maxBytes));
    }
  } catch (error) {
    response.destroy();
    throw error;
  }
  const limiter = byteLimit(
    options.maxBytes,
    (received) => new InputRefusedError(tooLarge(received, options.maxBytes)),
  );
  try {
    await pipeline(response, limiter, createWriteStream(target));
  } catch (error) {
    if (error instanceof InputRefusedError) throw error;
    throw new TransientError(`Downloading the attachment failed: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

function tooLarge(bytes: number, limit: number): string {
  return `The file is too large (${formatBytes(bytes)}; the limit is ${formatBytes(limit)})`;
}
