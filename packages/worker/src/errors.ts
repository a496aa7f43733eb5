/**
 * A failure that retrying may cure (a timeout, a 5xx, a storage hiccup). Everything else that a
 * job throws is either a `BgRemoverError` (bad input: never retried) or a bug (retried, then
 * reported).
 */
export class TransientError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TransientError';
  }
}

/** The input could not be fetched for a reason retrying cannot fix (404, not allowed, too big). */
export class InputRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputRefusedError';
  }
}
