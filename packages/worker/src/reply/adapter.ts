import type { ReplyTarget } from '@bgremover/jobs';
import type { Logger } from 'pino';

/** A finished result, ready to be delivered to where the request came from. */
export interface DeliverableResult {
  /** Storage key of the result (the API serves it from there; chat adapters may link to it). */
  resultKey: string;
  /** File name to show and to upload under. */
  filename: string;
  contentType: string;
  bytes: number;
  /** The result as a local file, for adapters that upload bytes (Discord, Slack). */
  localPath: string;
  model: string;
  warnings: string[];
}

/** How far a job is, as reported to QueueEvents and to adapters that show progress. */
export interface JobProgress {
  stage: 'fetching' | 'processing' | 'storing' | 'delivering';
  percent: number;
  framesDone?: number;
  framesTotal?: number;
}

export interface ReplyContext {
  jobId: string;
  logger: Logger;
}

/**
 * Delivers a job's outcome to one kind of reply target. One adapter per kind: `api` marks the
 * request's file done or failed; `discord` and `slack` post into the channel or thread.
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
