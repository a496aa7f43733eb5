import { BgRemoverError } from '../errors.js';
import { fitBackgroundImage } from '../image/background-image.js';
import { readInput } from '../image/decode.js';
import type { FramePlan } from './frame-plan.js';
import { type FrameReader, openFrameReader } from './frame-reader.js';
import { backgroundVideoInput, probeVideo } from './probe.js';

/** Background frames (packed RGB at the working size), one per foreground frame. */
export interface BackgroundFrames {
  next(): Promise<Buffer>;
  close(): void;
}

/**
 * A background picture cover-fitted to the frames (scaled to cover, centred, aspect kept,
 * overflow cropped; transparent parts over black), decoded once and reused for every frame.
 */
export async function pictureBackground(
  picture: Buffer | string,
  plan: FramePlan,
  maxPixels: number,
): Promise<BackgroundFrames> {
  const fitted = await fitBackgroundImage(
    await readInput(picture),
    plan.width,
    plan.height,
    maxPixels,
  );
  const frame = await fitted
    .flatten({ background: { r: 0, g: 0, b: 0 } })
    .raw()
    .toBuffer();
  return { next: async () => frame, close: () => undefined };
}

/**
 * A background video decoded alongside the foreground: resampled to the foreground's rate,
 * cover-fitted to its size (aspect kept, centred crop), and started over from the beginning
 * when it is shorter, so the output always has the foreground's length.
 */
export async function videoBackground(
  path: string,
  plan: FramePlan,
  maxPixels: number,
): Promise<BackgroundFrames> {
  await probeVideo(path, maxPixels, backgroundVideoInput);
  const filters = [
    `fps=${plan.fpsRational}`,
    `scale=${plan.width}:${plan.height}:force_original_aspect_ratio=increase:flags=lanczos`,
    `crop=${plan.width}:${plan.height}`,
    'setsar=1',
  ];
  const open = (): FrameReader =>
    openFrameReader({
      path,
      width: plan.width,
      height: plan.height,
      filters,
      role: backgroundVideoInput,
    });
  let reader = open();
  return {
    async next() {
      const frame = await reader.next();
      if (frame) return frame;
      const previousRun = reader.framesRead;
      reader = open();
      const again = await reader.next();
      if (!again || previousRun === 0) {
        throw new BgRemoverError(
          'corrupt_input',
          `${backgroundVideoInput.label} contains no decodable video frames`,
          { field: backgroundVideoInput.field },
        );
      }
      return again;
    },
    close: () => reader.close(),
  };
}
