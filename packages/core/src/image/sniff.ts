import { fileTypeFromBuffer } from 'file-type';

/** What the first bytes of a file say it is. */
export interface SniffedType {
  kind: 'image' | 'video' | 'audio' | 'other' | 'unknown';
  /** MIME type from the magic bytes, or undefined when they match nothing known (e.g. text). */
  mime: string | undefined;
}

/**
 * Identifies a file from its magic bytes, never its name. Text files, and anything else
 * without a signature, come back as `unknown`.
 */
export async function sniffFileType(bytes: Uint8Array): Promise<SniffedType> {
  const detected = await fileTypeFromBuffer(bytes.subarray(0, 64 * 1024));
  if (!detected) return { kind: 'unknown', mime: undefined };
  const family = detected.mime.split('/')[0];
  const kind = family === 'image' || family === 'video' || family === 'audio' ? family : 'other';
  return { kind, mime: detected.mime };
}
