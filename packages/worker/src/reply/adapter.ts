import type { JobProgress, ReplyTarget, StoredResult } from '@bgremover/jobs';

export type { JobProgress } from '@bgremover/jobs';

import type { Logger } from 'pino';

/** A finished result, ready to be delivered to where the request came from. */
export type DeliverableResult = StoredResult;

export interface ReplyContext {
  jobId: string;
  logger: Logger;
}

/**
 * Delivers a job's outcome to one kind of reply target. One adapter per kind: `api` marks the
 * request's file done or failed; `discord` and `slack` hand the outcome to the chat app's
 * delivery queue (the app posts it).
 * Implementations must tolerate being called again for the same job (a retry after a crash).
 */
export interface ReplyAdapter<T extends ReplyTarget = ReplyTarget> {
  deliverResult(target: T, result: DeliverableResult, context: ReplyContext): Promise<void>;
  deliverFailure(target: T, message: string, context: ReplyContext): Promise<void>;
  /** Optional: show progress (called at most every few seconds). */
  reportProgress?(target: T, progress: JobProgress, context: ReplyContext): Promise<void>;
}

/** The adapters a worker has, by target kind. */
export type ReplyAdapters = {
  [K in ReplyTarget['kind']]?: ReplyAdapter<Extract<ReplyTarget, { kind: K }>>;
};

/** The adapter for a target, or undefined when this worker cannot deliver to that kind. */
export function adapterFor(
  adapters: ReplyAdapters,
  target: ReplyTarget,
): ReplyAdapter<ReplyTarget> | undefined {
  return adapters[target.kind] as ReplyAdapter<ReplyTarget> | undefined;
}
