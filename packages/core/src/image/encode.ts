import type { Sharp } from 'sharp';

/**
 * Encodes a pipeline's pixels as PNG. Compression is tuned for speed (zlib level 1, no adaptive
 * filtering): files are somewhat larger than libpng's default, several times faster to write,
 * which matters because encoding is otherwise the slowest stage after inference.
 */
export async function encodePng(pipeline: Sharp): Promise<Buffer> {
  return pipeline.png({ compressionLevel: 1, adaptiveFiltering: false }).toBuffer();
}
