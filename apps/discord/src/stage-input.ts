import { Readable, Transform } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { displayFileName, type InputReference, type Storage, safeFileName } from '@bgremover/jobs';
import type { REST } from 'discord.js';
import type { AttachmentInfo } from './attachments.js';
import { expiresBefore, refreshAttachmentUrls } from './signed-urls.js';

/** A link that expires within this long is refreshed before the bot reads it. */
const REFRESH_MARGIN_MS = 60_000;

/**
 * Gives attachments whose signed links expire within a minute fresh links
 * (`POST /attachments/refresh-urls`): a message from the bot's cache, or a forward's snapshot,
 * may carry links signed long ago. Others are returned as they are; a failed refresh leaves the
 * old link (the download then says what went wrong).
 */
export async function freshenAttachments<T extends AttachmentInfo>(
  rest: REST,
  attachments: readonly T[],
  now = Date.now(),
): Promise<T[]> {
  const stale = attachments.filter((a) => expiresBefore(a.url, now + REFRESH_MARGIN_MS));
  if (stale.length === 0) return [...attachments];
  const fresh = await refreshAttachmentUrls(
    rest,
    stale.map((a) => a.url),
  ).catch(() => new Map<string, string>());
  return attachments.map((a) => {
    const url = fresh.get(a.url);
    return url ? { ...a, url } : a;
  });
}

export interface StageSettings {
  storage: Storage;
  /** Links that expire sooner than this are copied into storage. */
  minLifetimeMs: number;
  maxInputBytes: number;
  timeoutMs?: number;
}

/**
 * The input reference for a job. A Discord CDN link that stays valid for `minLifetimeMs` is
 * passed as it is (the worker fetches it); one that expires sooner is copied into storage
 * (`inputs/<folder>/<name>`) now, so that a job that waits in a long queue still finds its file.
 */
export async function stageInput(
  attachment: AttachmentInfo,
  folder: string,
  settings: StageSettings,
  now = Date.now(),
): Promise<InputReference> {
  const filename = displayFileName(attachment.name);
  if (!expiresBefore(attachment.url, now + settings.minLifetimeMs)) {
    return { kind: 'url', url: attachment.url, filename };
  }
  const key = `inputs/${folder}/${safeFileName(attachment.name)}`;
  const response = await fetch(attachment.url, {
    signal: AbortSignal.timeout(settings.timeoutMs ?? 120_000),
  });
  if (!response.ok || !response.body) {
    throw new Error(
      `${attachment.name} could not be downloaded from Discord (HTTP ${response.status})`,
    );
  }
  const body = Readable.fromWeb(response.body as WebReadableStream<Uint8Array>).pipe(
    byteLimit(settings.maxInputBytes, attachment.name),
  );
  await settings.storage.put(key, body, attachment.contentType ?? 'application/octet-stream');
  return { kind: 'storage', key, filename };
}

function byteLimit(limit: number, name: string): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      seen += chunk.length;
      if (seen > limit) done(new Error(`${name} is larger than the limit`));
      else done(null, chunk);
    },
  });
}
