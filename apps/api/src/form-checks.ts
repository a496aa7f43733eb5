/**
 * The limits on a `/v1/convert/` form as it is read: field length and repeats, files per
 * request, one background, and the key's files in progress. Pure: each rule takes what has
 * been read so far and returns the message to refuse with, or undefined.
 */
import { formatBytes } from '@bgremover/core/contract';
import type { UploadRole } from './media-checks.js';

/** Longest form field value; a longer one is refused (400), never cut. */
export const MAX_FIELD_BYTES = 64 * 1024;

/** Why a form field is refused: too long (cut by the parser) or sent twice; else undefined. */
export function fieldProblem(
  name: string,
  truncated: boolean,
  fields: Readonly<Record<string, string>>,
): string | undefined {
  if (truncated) {
    return `Parameter ${name} is longer than the limit of ${formatBytes(MAX_FIELD_BYTES)}`;
  }
  if (Object.hasOwn(fields, name)) {
    return `Parameter ${name} was sent more than once; send each parameter once`;
  }
  return undefined;
}

/** The 400 for a request with more than `maxFiles` inputs. */
export function tooManyFilesMessage(maxFiles: number): string {
  return `Too many files: at most ${maxFiles} per request (plus one background)`;
}

/**
 * Why a file part arriving now is refused before it is stored: one input more than
 * `maxFiles`, or a second background; else undefined.
 */
export function filePartProblem(
  role: UploadRole,
  fieldName: string,
  sofar: { inputs: number; hasBackground: boolean; maxFiles: number },
): string | undefined {
  if (role === 'input' && sofar.inputs >= sofar.maxFiles)
    return tooManyFilesMessage(sofar.maxFiles);
  if (role === 'background' && sofar.hasBackground) {
    return `Only one background per request: ${fieldName} repeats one already sent`;
  }
  return undefined;
}

/**
 * The 429 for a request whose `files` would take its key, which has `inflight` files in
 * progress, over `limit` (MAX_FILES_IN_FLIGHT_PER_KEY); undefined when they fit.
 */
export function inflightProblem(
  files: number,
  inflight: number,
  limit: number,
): string | undefined {
  if (inflight + files <= limit) return undefined;
  return `This request's ${files} files would take this key to ${inflight + files} files in progress (limit ${limit}); send fewer or retry when some finish`;
}
