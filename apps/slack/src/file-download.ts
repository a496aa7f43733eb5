import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { formatBytes, isAllowedHost } from '@bgremover/core/contract';
import { byteLimit, type Storage, safeFileName } from '@bgremover/jobs';

/** A file Slack would not give us, or one we will not take; `message` is for the person. */
export class DownloadRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DownloadRefusedError';
  }
}

export interface DownloadOptions {
  /** The bot token (sent only to `fileHosts`). */
  token: string;
  fileHosts: readonly string[];
  maxBytes: number;
  timeoutMs: number;
}

const MAX_REDIRECTS = 5;

/**
 * Streams one private Slack file (its url_private_download) into storage under `key`, with the
 * bot token, never holding it in memory: every hop of a redirect must be on an allowed host,
 * the download stops at `maxBytes` and after `timeoutMs`. Slack answers a file the token may
 * not read with its sign-in page (HTML, status 200): that is refused, as is any other answer
 * that is not the file. A refused or failed download leaves nothing in storage.
 */
export async function downloadIntoStorage(
  url: string,
  name: string,
  key: string,
  storage: Storage,
  options: DownloadOptions,
): Promise<void> {
  const signal = AbortSignal.timeout(options.timeoutMs);
  const response = await fetchFollowing(url, name, options, signal);
  const type = response.headers.get('content-type')?.split(';')[0]?.trim().toLowerCase() ?? '';
  if (type === 'text/html') {
    await response.body?.cancel();
    throw new DownloadRefusedError(
      `Slack would not give me ${name} (it answered with its sign-in page): I may not read that file`,
    );
  }
  const length = Number(response.headers.get('content-length') ?? Number.NaN);
  if (Number.isFinite(length) && length > options.maxBytes) {
    await response.body?.cancel();
    throw new DownloadRefusedError(tooLargeText(name, options.maxBytes));
  }
  if (!response.body) throw new DownloadRefusedError(`Slack sent no bytes for ${name}`);
  const capped = byteLimit(
    options.maxBytes,
    () => new DownloadRefusedError(tooLargeText(name, options.maxBytes)),
  );
  const source = Readable.fromWeb(response.body as WebReadableStream<Uint8Array>);
  const bytes = source.pipe(capped);
  source.on('error', (error) => capped.destroy(error));
  // Storage may attach its own listeners only after a first await: keep the cap's error here.
  let streamError: unknown;
  capped.on('error', (error) => {
    streamError = error;
    source.destroy();
  });
  try {
    await storage.put(key, bytes, type || 'application/octet-stream', { downloadName: name });
    if (streamError !== undefined) throw streamError;
  } catch (error) {
    await storage.delete(key).catch(() => undefined);
    if (streamError instanceof DownloadRefusedError) throw streamError;
    if (error instanceof DownloadRefusedError) throw error;
    if (signal.aborted) {
      throw new DownloadRefusedError(`Downloading ${name} from Slack took too long`);
    }
    throw error;
  }
  if (capped.bytesSeen === 0) {
    await storage.delete(key).catch(() => undefined);
    throw new DownloadRefusedError(`${name} is empty`);
  }
}

async function fetchFollowing(
  url: string,
  name: string,
  options: DownloadOptions,
  signal: AbortSignal,
): Promise<Response> {
  let current = url;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const parsed = new URL(current);
    if (!isAllowedHost(parsed.hostname, options.fileHosts)) {
      throw new DownloadRefusedError(
        `${name} is stored on ${parsed.hostname}, and I only fetch files from ${options.fileHosts.join(', ')}`,
      );
    }
    let response: Response;
    try {
      response = await fetch(current, {
        headers: { authorization: `Bearer ${options.token}` },
        redirect: 'manual',
        signal,
      });
    } catch (error) {
      if (signal.aborted)
        throw new DownloadRefusedError(`Downloading ${name} from Slack took too long`);
      throw error;
    }
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location) {
      await response.body?.cancel();
      current = new URL(location, current).toString();
      continue;
    }
    if (!response.ok) {
      await response.body?.cancel();
      if (response.status >= 500)
        throw new Error(`Slack answered HTTP ${response.status} for a file`);
      throw new DownloadRefusedError(`Slack would not give me ${name} (HTTP ${response.status})`);
    }
    return response;
  }
  throw new DownloadRefusedError(`Slack redirected ${name} more than ${MAX_REDIRECTS} times`);
}

function tooLargeText(name: string, maxBytes: number): string {
  return `${name} is larger than the ${formatBytes(maxBytes)} limit`;
}

/**
 * The storage key a Slack file is staged under, `inputs/slack-<request hash>/<n>-<safe name>`,
 * the same shape as the API's uploads (housekeeping removes them with old results).
 */
export function slackInputKey(requestKey: string, index: number, name: string): string {
  const request = createHash('sha256').update(requestKey).digest('hex').slice(0, 24);
  return `inputs/slack-${request}/${index}-${safeFileName(name)}`;
}
