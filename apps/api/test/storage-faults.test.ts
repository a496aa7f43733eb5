/**
 * Uploads when the API's storage is full or read-only: a 5xx that says which, with no path, and
 * nothing left behind; uploads work again once space or write access returns. The storage is a
 * real tmpfs mounted for the test; where mounting is not allowed the test says so and skips.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tmpfs from '@bgremover/test-kit/tmpfs';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { postForm, type Stack, startStack } from './api-harness.js';
import { filesUnder } from './raw-http.js';

const mountable = await tmpfs.canMountTmpfs();
let stack: Stack | undefined;
let volume: string | undefined;

afterAll(async () => {
  await stack?.close().catch(() => undefined);
  if (volume) {
    await tmpfs.unmount(volume);
    await rm(volume, { recursive: true, force: true });
  }
});

describe.skipIf(!mountable)(
  'uploads when storage is full or read-only (tmpfs; needs mount rights)',
  () => {
    it('answers 507 / 503 naming the fault, never a path, and accepts again once it clears', async () => {
      volume = await mkdtemp(join(tmpdir(), 'bgremover-api-volume-'));
      await tmpfs.mountTmpfs(volume, '1m');
      stack = await startStack({ STORAGE_DIR: volume }, false);
      const photo = await sharp({
        create: {
          width: 400,
          height: 400,
          channels: 3,
          background: '#808080',
          noise: { type: 'gaussian', mean: 128, sigma: 60 },
        },
      })
        .png()
        .toBuffer();
      const convert = () =>
        postForm(`${stack!.baseUrl}/v1/convert/`, { convert_to: 'image-backgroundremover' }, [
          ['files', 'photo.png', photo],
        ]);

      const filler = await tmpfs.fillVolume(volume);
      const full = await convert();
      expect(full.status).toBe(507);
      expect(full.body.error).toBe(
        'Cannot store uploads now: storage is full (ENOSPC); try again later',
      );
      expect(JSON.stringify(full.body)).not.toContain(volume);
      expect(
        (await filesUnder(join(volume, 'inputs'))).filter((name) => !name.endsWith('/')),
      ).toEqual([]);

      await rm(filler);
      await tmpfs.setWritable(volume, false);
      const readOnly = await convert();
      expect(readOnly.status).toBe(503);
      expect(readOnly.headers.get('retry-after')).toBe('60');
      expect(readOnly.body.error).toBe(
        'Cannot store uploads now: storage is read-only (EROFS); try again later',
      );
      expect(JSON.stringify(readOnly.body)).not.toContain(volume);

      await tmpfs.setWritable(volume, true);
      expect((await convert()).status).toBe(200);
    });
  },
);

describe.skipIf(mountable)('uploads when storage is full or read-only', () => {
  it.skip('skipped: this machine does not allow mounting a tmpfs (needs root or CAP_SYS_ADMIN)', () => {});
});
