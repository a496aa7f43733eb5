import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

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
