/** Image encodings accepted as input (AVIF arrives as sharp's `heif` with av1 compression). */
export const acceptedImageFormats = ['jpeg', 'png', 'webp', 'gif', 'tiff', 'avif'] as const;

/** Which input a message is about: its name in messages and its request field. */
export interface InputRole {
  label: string;
  field: string;
}

/** The main input file of a request. */
export const mainInput: InputRole = { label: 'The file', field: 'files' };
