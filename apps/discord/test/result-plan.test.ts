import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalStorage } from '@bgremover/jobs';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planDiscordDelivery, type StoredResult } from '../src/delivery/result-plan.js';

let dir: string;
let storage: LocalStorage;
let result: StoredResult;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bgremover-discord-plan-'));
  // Noise compresses badly, so the PNG is large for its size in pixels.
  const pixels = randomBytes(400 * 300 * 4);
  const png = await sharp(pixels, { raw: { width: 400, height: 300, channels: 4 } })
    .png()
    .toBuffer();
  storage = new LocalStorage(dir);
  await storage.put('results/job-1/noise_processed.png', png, 'image/png');
  result = {
    kind: 'result',
    resultKey: 'results/job-1/noise_processed.png',
    filename: 'noise_processed.png',
    contentType: 'image/png',
    bytes: png.length,
    model: 'u2netp',
    warnings: [],
  };
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('planDiscordDelivery', () => {
  it('uploads the file itself when it fits', async () => {
    const plan = await planDiscordDelivery(result, {
      uploadLimit: result.bytes,
      publicBaseUrl: undefined,
      storage,
    });
    expect(plan).toMatchObject({ kind: 'upload', filename: 'noise_processed.png', note: '' });
  });

  it('links to the API copy over the limit when a public URL is set, saying why', async () => {
    const plan = await planDiscordDelivery(result, {
      uploadLimit: 1000,
      publicBaseUrl: 'https://api.example.test/',
      storage,
    });
    expect(plan).toMatchObject({
      kind: 'link',
      url: 'https://api.example.test/v1/files/job-1/noise_processed.png',
    });
    expect(plan.kind === 'link' && plan.note).toMatch(/too large to upload/);
  });

  it('downscales a picture under the limit without a public URL, saying so', async () => {
    const limit = Math.floor(result.bytes / 3);
    const plan = await planDiscordDelivery(result, {
      uploadLimit: limit,
      publicBaseUrl: undefined,
      storage,
    });
    expect(plan.kind).toBe('upload');
    if (plan.kind !== 'upload') return;
    expect(plan.data.length).toBeLessThanOrEqual(limit);
    expect(plan.note).toMatch(/downscaled copy \(\d+x\d+, from 400x300\)/);
    const meta = await sharp(plan.data).metadata();
    expect(meta.width).toBeLessThan(400);
    expect(meta.channels).toBe(4);
  });

  it('refuses a video over the limit without a public URL, naming the sizes', async () => {
    const plan = await planDiscordDelivery(
      { ...result, contentType: 'video/webm', filename: 'clip_processed.webm' },
      { uploadLimit: 1000, publicBaseUrl: undefined, storage },
    );
    expect(plan).toMatchObject({ kind: 'refused' });
    expect(plan.kind === 'refused' && plan.message).toMatch(/no download link is configured/);
  });
});
