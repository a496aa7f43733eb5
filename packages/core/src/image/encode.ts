import sharp from 'sharp';
import type { RawImage } from './decode.js';

/**
 * Encodes raw pixels as PNG. Compression is tuned for speed (zlib level 3, no adaptive
 * filtering): files come out a little larger than the default, several times faster, which
 * matters because encoding is otherwise the slowest stage after inference.
 */
export async function encodePng(image: RawImage): Promise<Buffer> {
  return sharp(image.data, {
    raw: { width: image.width, height: image.height, channels: image.channels },
  })
    .png({ compressionLevel: 3, adaptiveFiltering: false })
    .toBuffer();
}
