import {
  type ConversionJobData,
  type ConversionJobResult,
  enqueueConversion,
  type ReplyTarget,
} from '@bgremover/jobs';
import type { Queue } from 'bullmq';
import type { PreparedFile } from './prepare-file.js';
import { type StageSettings, stageInput } from './stage-input.js';

/** The discord reply target, less the file name (filled in per file). */
export type DiscordTarget = Omit<Extract<ReplyTarget, { kind: 'discord' }>, 'filename'>;

/**
 * Adds one job for a prepared file. The worker fetches a Discord CDN link itself when the link
 * outlives the wait (the job holds its URL, never its bytes); a link that expires sooner is
 * copied into storage first (see `stageInput`). `dedupeKey` makes the job id, so the same
 * interaction or reaction delivered twice leaves one job.
 */
export async function enqueueDiscordJob(
  queue: Queue<ConversionJobData, ConversionJobResult>,
  file: PreparedFile,
  target: DiscordTarget,
  dedupeKey: string,
  staging: StageSettings,
): Promise<string> {
  const { attachment, background } = file.request;
  const folder = dedupeKey.replace(/[^A-Za-z0-9._-]/g, '_');
  const input = await stageInput(attachment, folder, staging);
  const backgroundInput = background
    ? await stageInput(background, `${folder}-bg`, staging)
    : undefined;
  return enqueueConversion(
    queue,
    {
      version: 1,
      mediaKind: file.kind,
      params: file.params,
      input,
      ...(backgroundInput ? { background: backgroundInput } : {}),
      target: { ...target, filename: attachment.name },
      requestedAt: Date.now(),
    },
    dedupeKey,
    file.durationSeconds !== undefined ? { durationSeconds: file.durationSeconds } : {},
  );
}
