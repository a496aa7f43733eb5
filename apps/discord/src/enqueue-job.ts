import {
  type ConversionJobData,
  type ConversionJobResult,
  displayFileName,
  enqueueConversion,
  type ReplyTarget,
} from '@bgremover/jobs';
import type { Queue } from 'bullmq';
import type { AttachmentInfo } from './attachments.js';
import type { PreparedFile } from './prepare-file.js';

/** The discord reply target, less the file name (filled in per file). */
export type DiscordTarget = Omit<Extract<ReplyTarget, { kind: 'discord' }>, 'filename'>;

/**
 * Adds one job for a prepared file. The worker fetches the attachment itself from Discord's CDN
 * (the job holds its URL, never its bytes). `dedupeKey` makes the job id, so the same interaction
 * or reaction delivered twice leaves one job.
 */
export async function enqueueDiscordJob(
  queue: Queue<ConversionJobData, ConversionJobResult>,
  file: PreparedFile,
  target: DiscordTarget,
  dedupeKey: string,
): Promise<string> {
  const { attachment, background } = file.request;
  return enqueueConversion(
    queue,
    {
      version: 1,
      mediaKind: file.kind,
      params: file.params,
      input: urlInput(attachment),
      ...(background ? { background: urlInput(background) } : {}),
      target: { ...target, filename: attachment.name },
      requestedAt: Date.now(),
    },
    dedupeKey,
    file.durationSeconds !== undefined ? { durationSeconds: file.durationSeconds } : {},
  );
}

function urlInput(attachment: AttachmentInfo) {
  return { kind: 'url' as const, url: attachment.url, filename: displayFileName(attachment.name) };
}
