import type { ConversionParams } from '@bgremover/core/contract';
import { enqueueConversion, type InputReference, type Storage } from '@bgremover/jobs';
import type { FastifyBaseLogger } from 'fastify';
import type { ApiContext } from './context.js';
import type { InputVerdict } from './media-checks.js';
import type { Upload } from './uploads.js';

/** Removes the stored files of uploads (best effort: one that is already gone is fine). */
export async function discardUploads(storage: Storage, uploads: readonly Upload[]): Promise<void> {
  for (const upload of uploads)
    if (upload.ok) await storage.delete(upload.key).catch(() => undefined);
}

/** An accepted request, ready to be recorded and queued. */
export interface Admission {
  requestId: string;
  keyId: string;
  conversion: ConversionParams;
  /** The stored inputs, in the order of `verdicts`. */
  uploads: readonly Upload[];
  verdicts: readonly InputVerdict[];
  background: Upload | undefined;
}

/**
 * Records the request (and the key's in-flight entries), then enqueues one job per accepted
 * input, with a video's duration for its priority. If any step fails (Redis going away
 * mid-request), what was written is undone, so no record waits forever and no in-flight entry
 * holds the key's limit; the staged uploads are the caller's to remove.
 */
export async function admitRequest(
  context: ApiContext,
  admission: Admission,
  log: FastifyBaseLogger,
): Promise<void> {
  const { requestId, keyId, conversion, uploads, verdicts, background } = admission;
  const jobIdFor = (position: number) => `${requestId}-${position}`;
  const backgroundReference: InputReference | undefined = background?.ok
    ? { kind: 'storage', key: background.key, filename: background.filename }
    : undefined;
  const enqueued: string[] = [];
  try {
    await context.requests.create(
      requestId,
      keyId,
      verdicts.map((verdict, position) =>
        verdict.ok
          ? { filename: verdict.filename, jobId: jobIdFor(position) }
          : { filename: verdict.filename, error: verdict.error },
      ),
    );
    for (const [position, verdict] of verdicts.entries()) {
      const upload = uploads[position];
      if (!verdict.ok || !upload?.ok) continue;
      await enqueueConversion(
        context.queue,
        {
          version: 1,
          mediaKind: conversion.kind,
          params: conversion.params,
          input: { kind: 'storage', key: upload.key, filename: upload.filename },
          ...(backgroundReference ? { background: backgroundReference } : {}),
          target: { kind: 'api', requestId, fileIndex: position },
          requestedAt: Date.now(),
        },
        jobIdFor(position),
        { durationSeconds: verdict.durationSeconds },
      );
      enqueued.push(jobIdFor(position));
    }
  } catch (error) {
    await undoAdmission(context, requestId, keyId, verdicts.length, enqueued).catch((undoError) =>
      log.warn({ err: undoError, requestId }, 'could not undo a failed admission'),
    );
    throw error;
  }
}

/**
 * Undoes a half-done admission: removes the jobs already enqueued (a worker that took one
 * already finds no record and its result expires) and the request's record and in-flight
 * entries. Best effort: with Redis down it fails too, and the in-flight entries lapse on their
 * own (their score is their expiry; entries without a record are dropped when counted).
 */
async function undoAdmission(
  context: ApiContext,
  requestId: string,
  keyId: string,
  fileCount: number,
  jobIds: readonly string[],
): Promise<void> {
  for (const jobId of jobIds) await context.queue.remove(jobId).catch(() => 0);
  await context.requests.abandon(requestId, keyId, fileCount);
}
