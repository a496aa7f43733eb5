import sharp from 'sharp';

/** Scales a square model-size mask to the picture's size with Lanczos resampling. */
export async function resizeMask(
  mask: Uint8Array,
  maskSize: number,
  width: number,
  height: number,
): Promise<Buffer> {
  return sharp(mask, { raw: { width: maskSize, height: maskSize, channels: 1 } })
    .resize(width, height, { fit: 'fill', kernel: 'lanczos3' })
    .extractChannel(0)
    .raw()
    .toBuffer();
}
