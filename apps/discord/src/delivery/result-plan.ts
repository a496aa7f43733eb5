import { formatBytes } from '@bgremover/core/contract';
import { type DeliveryOutcome, resultDownloadUrl, type Storage } from '@bgremover/jobs';
import sharp from 'sharp';

/** A stored result, as the worker handed it over. */
export type StoredResult = Extract<DeliveryOutcome, { kind: 'result' }>;

/** How a result reaches Discord: as the file, as a link to the API's copy, or not at all. */
export type DiscordDelivery =
  | { kind: 'upload'; filename: string; data: Buffer; contentType: string; note: string }
  | { kind: 'link'; url: string; note: string }
  | { kind: 'refused'; message: string };

export interface PlanOptions {
  /** Largest upload the destination takes, in bytes. */
  uploadLimit: number;
  /** The API's public address; results over the limit are linked there when it is set. */
  publicBaseUrl: string | undefined;
  /** True to skip the upload even when the size fits (Discord answered 40005 to it). */
  forceOversize?: boolean;
  /** Where the result's bytes are (read only when they are uploaded). */
  storage: Storage;
}

/**
 * Decides how to deliver a result within an upload limit. Under the limit: the file itself.
 * Over it: a link to `/v1/files/<jobId>/<filename>` on the public API when one is configured,
 * else a downscaled PNG for pictures, else a refusal naming the sizes. Every choice other than
 * the plain upload carries a note saying what was done and why.
 */
export async function planDiscordDelivery(
  result: StoredResult,
  options: PlanOptions,
): Promise<DiscordDelivery> {
  const { uploadLimit, publicBaseUrl } = options;
  if (!options.forceOversize && result.bytes <= uploadLimit) {
    return {
      kind: 'upload',
      filename: result.filename,
      data: await readStored(options.storage, result.resultKey),
      contentType: result.contentType,
      note: '',
    };
  }
  const sizes = `${formatBytes(result.bytes)}, over the ${formatBytes(uploadLimit)} upload limit here`;
  if (publicBaseUrl) {
    return {
      kind: 'link',
      url: resultDownloadUrl(publicBaseUrl, result.resultKey),
      note: `The result is too large to upload (${sizes}), so here is a download link instead.`,
    };
  }
  if (result.contentType === 'image/png') {
    const original = await readStored(options.storage, result.resultKey);
    const smaller = await downscalePng(original, uploadLimit);
    if (smaller) {
      return {
        kind: 'upload',
        filename: result.filename,
        data: smaller.data,
        contentType: 'image/png',
        note: `The result is too large to upload (${sizes}), so this is a downscaled copy (${smaller.width}x${smaller.height}, from ${smaller.originalWidth}x${smaller.originalHeight}).`,
      };
    }
  }
  return {
    kind: 'refused',
    message: `The result is too large to upload (${sizes}) and no download link is configured for this bot.`,
  };
}

/** Shrinks a PNG step by step until it fits `limit` bytes; undefined when even 64 px is too big. */
async function downscalePng(
  original: Buffer,
  limit: number,
): Promise<
  | { data: Buffer; width: number; height: number; originalWidth: number; originalHeight: number }
  | undefined
> {
  const meta = await sharp(original).metadata();
  const originalWidth = meta.width;
  const originalHeight = meta.height;
  if (!originalWidth || !originalHeight) return undefined;
  let scale = Math.min(0.9, Math.sqrt(limit / original.length) * 0.9);
  for (let attempt = 0; attempt < 8; attempt++) {
    const width = Math.max(1, Math.floor(originalWidth * scale));
    const height = Math.max(1, Math.floor(originalHeight * scale));
    if (Math.max(width, height) < 64) return undefined;
    const data = await sharp(original)
      .resize(width, height)
      .png({ compressionLevel: 9 })
      .toBuffer();
    if (data.length <= limit) return { data, width, height, originalWidth, originalHeight };
    scale *= Math.min(0.8, Math.sqrt(limit / data.length) * 0.95);
  }
  return undefined;
}

/** The whole stored object, as one buffer (results within an upload limit: at most 100 MiB). */
async function readStored(storage: Storage, key: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of await storage.read(key)) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}
