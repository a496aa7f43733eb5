import { describeStorageFault, type StorageFault } from '@bgremover/jobs';

export interface StorageRetryOptions {
  /** How long to keep trying a fault that may pass (a full disk being cleared, a remount). */
  budgetMs: number;
  /** Stops waiting at once (the job's deadline or shutdown). */
  signal?: AbortSignal;
  /** Told about each failed try before the wait. */
  onRetry?: (fault: StorageFault, attempt: number, waitMs: number) => void;
}

/** Thrown when a storage operation failed for good: its fault, never its raw message. */
export class StorageFaultError extends Error {
  constructor(
    readonly fault: StorageFault,
    options: { cause: unknown },
  ) {
    super(`${fault.summary} (${fault.code})`, options);
    this.name = 'StorageFaultError';
  }
}

/**
 * Runs a storage operation, retrying faults that may pass (full, read-only, unreachable) with
 * waits of 1, 2, 4 ... 30 s until `budgetMs` is spent: minutes, not the seconds of a job retry,
 * and without redoing the work that produced what is being stored. Faults that cannot pass, or
 * the budget running out, throw `StorageFaultError`.
 */
export async function withStorageRetry<T>(
  operation: () => Promise<T>,
  options: StorageRetryOptions,
): Promise<T> {
  const deadline = Date.now() + options.budgetMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      const fault = describeStorageFault(error);
      const waitMs = Math.min(30_000, 1_000 * 2 ** (attempt - 1));
      if (!fault.transient || Date.now() + waitMs > deadline || options.signal?.aborted) {
        throw new StorageFaultError(fault, { cause: error });
      }
      options.onRetry?.(fault, attempt, waitMs);
      await sleep(waitMs, options.signal);
    }
  }
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
