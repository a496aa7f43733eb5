import type { Sharp } from 'sharp';
import {
  decodeFailure,
  type InputRole,
  inspectImage,
  openImage,
  rawImageToSharp,
} from './decode.js';

const backgroundRole: InputRole = { label: 'The background image (bg_image)', field: 'bg_image' };

/**
 * Decodes a background picture and fits it to `width` x `height` the way remove.bg does:
 * scaled to cover, centred, aspect ratio kept, overflow cropped. Bad pictures are refused with
 * errors naming `bg_image`.
 */
export async function fitBackgroundImage(
  bytes: Buffer,
  width: number,
  height: number,
  maxPixels: number,
): Promise<Sharp> {
  const inspected = await inspectImage(bytes, maxPixels, backgroundRole);
  const { data, info } = await decodeFailure(
    openImage(inspected)
      .resize(width, height, { fit: 'cover', position: 'centre', kernel: 'lanczos3' })
      .ensureAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true }),
    backgroundRole,
  );
  return rawImageToSharp({ data, width: info.width, height: info.height, channels: 4 });
}
