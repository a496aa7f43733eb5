import { type InputRole, type InspectedImage, type RawImage, decodeFailure, inspectImage, openImage } from './decode.js';

/**
 * Decodes a background picture and fits it to `width` x `height` the way remove.bg does:
 * scaled to cover, centred, aspect ratio kept, overflow cropped. Returns RGBA.
 */
export async function fitBackgroundImage(
  bytes: Buffer,
  width: number,
  height: number,
  maxPixels: number,
): Promise<RawImage> {
  const role: InputRole = { label: 'Background image (bg_image)', field: 'bg_image' };
  const inspected: InspectedImage = await inspectImage(bytes, maxPixels, role);
  const { data, info } = await decodeFailure(
    openImage(inspected)
      .resize(width, height, { fit: 'cover', position: 'centre', kernel: 'lanczos3' })
      .ensureAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true }),
    role,
  );
  return { data, width: info.width, height: info.height, channels: 4 };
}
