/**
 * Errors that a person can act on. Every refusal of bad input (a parameter, a file, a missing
 * model) is a `BgRemoverError` with a machine-readable `code` and a message that names the
 * problem. Front ends show `message` as is; workers treat these as unrecoverable (retrying the
 * same input cannot help).
 */
export type BgRemoverErrorCode =
  | 'invalid_parameter'
  | 'empty_input'
  | 'unsupported_input'
  | 'corrupt_input'
  | 'input_too_large'
  | 'input_too_long'
  | 'missing_background'
  | 'unknown_model'
  | 'model_not_installed'
  | 'model_checksum_mismatch'
  | 'model_download_failed';

export class BgRemoverError extends Error {
  readonly code: BgRemoverErrorCode;
  /** The request field the error is about (a parameter name or `files`), when there is one. */
  readonly field: string | undefined;

  constructor(
    code: BgRemoverErrorCode,
    message: string,
    options?: { field?: string; cause?: unknown },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BgRemoverError';
    this.code = code;
    this.field = options?.field;
  }
}

/** True when `error` is a refusal caused by the request itself rather than a fault of ours. */
export function isBgRemoverError(error: unknown): error is BgRemoverError {
  return error instanceof BgRemoverError;
}
