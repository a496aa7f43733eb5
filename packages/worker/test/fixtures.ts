import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { expect } from 'vitest';

const fixtures = fileURLToPath(new URL('../../../fixtures/images/', import.meta.url));

/** A small PNG of a fixture photo (fast to process). */
export function smallPhoto(name = 'coffee.png', width = 160): Promise<Buffer> {
  return sharp(`${fixtures}${name}`).resize(width).png().toBuffer();
}

/** A large JPEG (about 20 MP) that takes the model pipeline a second or more. */
export function largePhoto(): Promise<Buffer> {
  return sharp(`${fixtures}astronaut.png`)
    .resize(5000, 4000, { fit: 'fill' })
    .jpeg({ quality: 85 })
    .toBuffer();
}

/** A cutout at `path`: it has an alpha channel, and the subject in its centre is opaque. */
export async function expectOpaqueCentre(path: string): Promise<void> {
  const { data, info } = await sharp(path).raw().toBuffer({ resolveWithObject: true });
  expect(info.channels).toBe(4);
  const centre = (Math.floor(info.height / 2) * info.width + Math.floor(info.width / 2)) * 4;
  expect(data[centre + 3]).toBeGreaterThan(200);
}
