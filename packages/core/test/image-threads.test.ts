import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { closeInferenceThread, removeImageBackground } from '../src/index.js';
import { fixturePath, realConfig } from './helpers.js';

afterAll(() => closeInferenceThread());

describe('libvips threads', () => {
  it('keeps the configured libvips thread count after the inference thread has started', async () => {
    // Neither sharp's glibc default (1) nor, on most machines, the core count.
    const config = realConfig({ inferenceThread: true, imageThreads: 3 });
    const photo = await sharp(fixturePath('coffee.png')).resize(160).png().toBuffer();
    const result = await removeImageBackground(photo, { model: 'u2netp' }, { config });
    expect(result.width).toBe(160);
    // Loading sharp in the inference thread would have put libvips back to one thread for the
    // whole process, making every later resize on the main thread single-threaded.
    expect(sharp.concurrency()).toBe(3);
  });
});
