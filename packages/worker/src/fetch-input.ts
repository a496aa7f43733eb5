import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import {
  type InputReference,
  type Storage,
  StorageNotFoundError,
  safeFileName,
} from '@bgremover/jobs';
import { InputRefusedError, TransientError } from './errors.js';

export interface FetchInputOptions {
  storage: Storage;
  /** Folder the file is written into (the job's scratch folder). */
  dir: string;
  attachmentHosts: readonly string[];
  maxBytes: number;
  timeoutMs: number;
  /** Credentials added per `auth` kind (e.g. the Slack bot token); never stored in jobs. */
  authHeaders?: Partial<Record<'slack-bot', string>>;
}

/**
 * Brings a job's input into a local file and returns its path: from storage, or from a chat
 * attachment URL on an allow-listed host with a size limit. Refusals (host not allowed, 404,
 * too large, expired upload) throw `InputRefusedError`; timeouts, 5xx and network errors throw
 * `TransientError` so the job is retried.
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
  await downloadAttachment(reference.url, target, reference.auth, options);
  return target;
}

/** True when `host` is one of `allowed` or a subdomain of one. */
export function isAllowedHost(host: string, allowed: readonly string[]): boolean {
  const name = host.toLowerCase();
  return allowed.some((entry) => name === entry || name.endsWith(`.${entry}`));
}

async function downloadAttachment(
  url: string,
  target: string,
  auth: 'none' | 'slack-bot',
  options: FetchInputOptions,
): Promise<void> {
  const parsed = new URL(url);
  if (!isAllowedHost(parsed.hostname, options.attachmentHosts)) {
    throw new InputRefusedError(
      `Attachments are only fetched from ${options.attachmentHosts.join(', ')}, not ${parsed.hostname}`,
    );
  }
  const headers: Record<string, string> = {};
  const token = auth === 'slack-bot' ? options.authHeaders?.['slack-bot'] : undefined;
  if (auth === 'slack-bot' && !token) {
    throw new InputRefusedError(
      'This worker has no Slack bot token (SLACK_BOT_TOKEN), so it cannot fetch Slack files',
    );
  }
  if (token) headers.authorization = `Bearer ${token}`;
  let response: Response;
  try {
    response = await fetch(url, {
      headers,
      signal: AbortSignal.timeout(options.timeoutMs),
      redirect: 'follow',
    });
  } catch (error) {
    throw new TransientError(`Fetching the attachment failed: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (response.status >= 500 || response.status === 408 || response.status === 429) {
    throw new TransientError(`The attachment host answered HTTP ${response.status}`);
  }
  if (!response.ok || !response.body) {
    throw new InputRefusedError(`The attachment could not be fetched (HTTP ${response.status})`);
  }
  const declared = Number(response.headers.get('content-length'));
  if (declared > options.maxBytes) {
    throw new InputRefusedError(tooLarge(declared, options.maxBytes));
  }
  let received = 0;
  const limiter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      received += chunk.length;
      if (received > options.maxBytes)
        done(new InputRefusedError(tooLarge(received, options.maxBytes)));
      else done(null, chunk);
    },
  });
  try {
    await pipeline(
      Readable.fromWeb(response.body as WebReadableStream),
      limiter,
      createWriteStream(target),
    );
  } catch (error) {
    if (error instanceof InputRefusedError) throw error;
    throw new TransientError(`Downloading the attachment failed: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

function tooLarge(bytes: number, limit: number): string {
  const mb = (value: number) => `${(value / 1024 / 1024).toFixed(1)} MB`;
  return `The file is too large (${mb(bytes)}; the limit is ${mb(limit)})`;
}
