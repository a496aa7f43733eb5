import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postForm, type Stack, startStack, waitForResults } from './api-harness.js';

const fixtures = fileURLToPath(new URL('../../../fixtures/images/', import.meta.url));
let stack: Stack;
let photo: Buffer;

beforeAll(async () => {
  stack = await startStack();
  // A light subject on a plain dark background: the corners must come out clear.
  photo = await sharp(`${fixtures}coffee.png`).resize(96).png().toBuffer();
});
afterAll(() => stack.close());

/** Names that browsers, phones and chat apps send every day, and a few hostile ones. */
const names = [
  'my photo.png',
  'IMG_0001(1).png',
  'фото.png',
  'q"x;y=z.png',
  'ctrl\u0001char.png',
  `${'long'.repeat(75)}.png`,
];

describe('any file name gives a result', () => {
  it('processes every name once, keeps the name, and serves it with a standard download name', async () => {
    const { status, body } = await postForm(
      `${stack.baseUrl}/v1/convert/`,
      { convert_to: 'image-backgroundremover', model: 'u2netp' },
      names.map((name) => ['files', name, photo]),
    );
    expect(status, JSON.stringify(body)).toBe(200);
    const results = await waitForResults(stack.baseUrl, String(body.uuid));
    expect(results.failed).toEqual([]);
    const files = results.files as { url: string; filename: string }[];
    expect(files).toHaveLength(names.length);

    const shown = files.map((file) => file.filename);
    expect(shown).toContain('my photo_processed.png');
    expect(shown).toContain('IMG_0001(1)_processed.png');
    expect(shown).toContain('фото_processed.png');
    expect(shown.some((name) => /\p{Cc}/u.test(name))).toBe(false);

    for (const file of files) {
      expect(file.url).toMatch(/^\/v1\/files\/[^/]+\/[A-Za-z0-9._-]+$/);
      const response = await fetch(`${stack.baseUrl}${file.url}`);
      expect(response.status).toBe(200);
      const disposition = response.headers.get('content-disposition') ?? '';
      if (/^[\x20-\x7e]+$/.test(file.filename) && !/["\\%]/.test(file.filename)) {
        expect(disposition).toBe(`attachment; filename="${file.filename}"`);
      } else {
        expect(disposition).toMatch(/^attachment; filename="[\x20-\x7e]+"; filename\*=UTF-8''/);
        const encoded = disposition.split("filename*=UTF-8''")[1] ?? '';
        expect(decodeURIComponent(encoded)).toBe(file.filename);
      }
      // The pixels: a cut-out whose corners are clear and whose centre is opaque photo colour.
      const { data, info } = await sharp(Buffer.from(await response.arrayBuffer()))
        .ensureAlpha()
        .raw()
        .toBuffer({ resolveWithObject: true });
      expect(info.channels).toBe(4);
      expect(data[3]).toBeLessThan(16);
      const centre = (Math.floor(info.height / 2) * info.width + Math.floor(info.width / 2)) * 4;
      expect(data[centre + 3]).toBeGreaterThan(200);
    }
  });
});
