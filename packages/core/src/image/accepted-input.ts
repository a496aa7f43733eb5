import { BgRemoverError } from '../errors.js';

/** Image encodings accepted as input (AVIF arrives as sharp's `heif` with av1 compression). */
export const acceptedImageFormats = ['jpeg', 'png', 'webp', 'gif', 'tiff', 'avif'] as const;

/** Which input a message is about: its name in messages and its request field. */
export interface InputRole {
  label: string;
  field: string;
}

/** The main input file of a request. */
export const mainInput: InputRole = { label: 'The file', field: 'files' };

/** The refusal of an input of 0 bytes (an image's bytes or a video's file), named by its role. */
export function emptyInputError({ label, field }: InputRole): BgRemoverError {
  return new BgRemoverError('empty_input', `${label} is empty (0 bytes)`, { field });
}
