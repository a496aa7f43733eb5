import { readFile } from 'node:fs/promises';
import sharp, { type Metadata, type Sharp } from 'sharp';
import { BgRemoverError } from '../errors.js';
import {
  acceptedImageFormats,
  emptyInputError,
  type InputRole,
  mainInput,
} from './accepted-input.js';
import { sniffFileType } from './sniff.js';

export { acceptedImageFormats };

/** An input image that passed inspection, with its displayed (EXIF-oriented) size. */
export interface InspectedImage {
  bytes: Buffer;
  format: (typeof acceptedImageFormats)[number];
  width: number;
  height: number;
}

/** Pixels as sharp's raw output: interleaved 8-bit channels, row-major, no padding. */
export interface RawImage {
  data: Buffer;
  width: number;
  height: number;
  channels: 1 | 3 | 4;
}

export { type InputRole, mainInput };

/** Reads an input given as bytes or as a path. */
export async function readInput(input: Buffer | string): Promise<Buffer> {
  return typeof input === 'string' ? readFile(input) : input;
}

/**
 * Checks that `bytes` are an image we accept, within `maxPixels`, before any pixel is decoded.
 * Throws `BgRemoverError` naming the problem (empty, not an image and what it looks like,
 * unsupported format, too many pixels). `label` names the file in messages.
 */
export async function inspectImage(
  bytes: Buffer,
  maxPixels: number,
  role: InputRole = mainInput,
): Promise<InspectedImage> {
  if (bytes.length === 0) throw emptyInputError(role);
  const { label, field } = role;
  let metadata: Metadata;
  try {
    metadata = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (error) {
    throw await notAnImageError(bytes, role, error);
  }
  const format = acceptedFormatOf(metadata);
  if (!format) {
    throw new BgRemoverError(
      'unsupported_input',
      `${label} is ${metadata.format?.toUpperCase() ?? 'an unknown format'}, which is not supported: send ${describeAccepted()}`,
      { field },
    );
  }
  const width = metadata.autoOrient?.width ?? metadata.width;
  const height = metadata.autoOrient?.height ?? metadata.height;
  if (!width || !height) {
    throw new BgRemoverError('corrupt_input', `${label} has no readable dimensions`, {
      field,
    });
  }
  if (width * height > maxPixels) {
    throw new BgRemoverError(
      'input_too_large',
      `${label} is ${width}x${height} (${formatMegapixels(width * height)}), over the limit of ${formatMegapixels(maxPixels)} (MAX_INPUT_PIXELS)`,
      { field },
    );
  }
  return { bytes, format, width, height };
}

/**
 * Starts a sharp pipeline on an inspected image: first frame only, EXIF orientation applied,
 * converted to 8-bit sRGB. Corrupt or truncated data makes the pipeline's output reject; wrap
 * its promise with `decodeFailure`.
 */
export function openImage(image: InspectedImage): Sharp {
  return sharp(image.bytes, {
    failOn: 'truncated',
    limitInputPixels: image.width * image.height,
    pages: 1,
  })
    .autoOrient()
    .toColourspace('srgb');
}

/**
 * Decodes an inspected image to raw 8-bit sRGB pixels: RGBA when the source has an alpha
 * channel, RGB otherwise (grey, CMYK and 16-bit sources are converted).
 */
export async function decodePixels(
  image: InspectedImage,
  role: InputRole = mainInput,
): Promise<RawImage> {
  const { data, info } = await decodeFailure(
    openImage(image).raw().toBuffer({ resolveWithObject: true }),
    role,
  );
  if (info.channels !== 3 && info.channels !== 4) {
    throw new Error(`sRGB decode produced ${info.channels} channels, expected 3 or 4`);
  }
  return { data, width: info.width, height: info.height, channels: info.channels };
}

/** Wraps raw pixels in a sharp pipeline (for resizing or encoding them). */
export function rawImageToSharp(image: RawImage): Sharp {
  return sharp(image.data, {
    raw: { width: image.width, height: image.height, channels: image.channels },
  });
}

/** Turns a decoding failure (truncated, corrupt pixel data) into a clear `corrupt_input` error. */
export async function decodeFailure<T>(
  pending: Promise<T>,
  role: InputRole = mainInput,
): Promise<T> {
  try {
    return await pending;
  } catch (error) {
    throw new BgRemoverError(
      'corrupt_input',
      `${role.label} is corrupt or truncated and cannot be decoded (${firstLine(error)})`,
      { field: role.field, cause: error },
    );
  }
}

async function notAnImageError(
  bytes: Buffer,
  { label, field }: InputRole,
  cause: unknown,
): Promise<BgRemoverError> {
  const sniffed = await sniffFileType(bytes);
  if (sniffed.kind === 'image') {
    return new BgRemoverError(
      'corrupt_input',
      `${label} looks like ${sniffed.mime} but cannot be read (${firstLine(cause)})`,
      { field, cause },
    );
  }
  const what = sniffed.mime ? `a ${sniffed.mime} file` : 'not an image (no image signature; text?)';
  return new BgRemoverError(
    'unsupported_input',
    `${label} is ${what}: send ${describeAccepted()}`,
    { field, cause },
  );
}

function acceptedFormatOf(metadata: Metadata): InspectedImage['format'] | undefined {
  if (metadata.format === 'heif') return metadata.compression === 'av1' ? 'avif' : undefined;
  const format = metadata.format as string | undefined;
  return acceptedImageFormats.find((accepted) => accepted === format);
}

function describeAccepted(): string {
  return 'a JPEG, PNG, WebP, GIF, TIFF or AVIF image';
}

function formatMegapixels(pixels: number): string {
  return `${(pixels / 1_000_000).toFixed(1)} MP`;
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
}
