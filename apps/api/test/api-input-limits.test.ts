import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from './api-harness.js';
import { noisePng } from './raw-http.js';

const fixtures = fileURLToPath(new URL('../../../fixtures/images/', import.meta.url));
let stack: Stack;
let photo: Buffer;
const stamp = Date.now();
// One key per test, so in-flight counts never mix (no worker runs: files stay in flight).
const keys = ['results', 'count', 'inflight', 'size', 'fields'] as const;
const keyName = (key: (typeof keys)[number]) => `${key}-${stamp}`;

beforeAll(async () => {
  stack = await startStack(
    {
      API_KEYS: keys.map((key) => `${keyName(key)}=${key}-secret`).join(','),
      MAX_FILES_PER_REQUEST: '2',
      MAX_FILES_IN_FLIGHT_PER_KEY: '3',
      MAX_UPLOAD_BYTES: String(500 * 1024),
    },
    false,
  );
  photo = await sharp(`${fixtures}coffee.png`).resize(64).png().toBuffer();
});
afterAll(() => stack.close());

/** POSTs /v1/convert/ with fields (repeats allowed) and files, as the given key. */
async function convert(
  key: (typeof keys)[number],
  fields: [string, string][],
  files: [field: string, filename: string, bytes: Buffer][],
) {
  const form = new FormData();
  for (const [name, value] of fields) form.append(name, value);
  for (const [field, filename, bytes] of files) form.append(field, new Blob([bytes]), filename);
  const response = await fetch(`${stack.baseUrl}/v1/convert/`, {
    method: 'POST',
    body: form,
    headers: { authorization: `${key}-secret` },
  });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as { uuid?: string; error?: string },
  };
}
const image: [string, string][] = [['convert_to', 'image-backgroundremover']];

describe('/v1/results/ looks up only the uuids /v1/convert/ issues', () => {
  it('a uuid naming another Redis key (inflight:<key>) is an unknown uuid, not a 500', async () => {
    const accepted = await convert('results', image, [['files', 'a.png', photo]]);
    expect(accepted.status).toBe(200);
    // That key now exists in Redis as bgremover:<queue>:inflight-files:<key>.
    for (const uuid of [`inflight:${keyName('results')}`, 'inflight:nobody', '../x']) {
      const response = await fetch(`${stack.baseUrl}/v1/results/`, {
        method: 'POST',
        body: new URLSearchParams({ uuid }),
      });
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({ error: `Unknown or expired uuid ${uuid}` });
    }
    const real = await fetch(`${stack.baseUrl}/v1/results/?uuid=${accepted.body.uuid}`);
    expect(real.status).toBe(200);
  });
});

describe('/v1/files/ serves only real results', () => {
  it('refuses sidecars, staging files and dot names with 404', async () => {
    const job = '3f2b8c1e-9d4a-4f6b-8e2d-1a2b3c4d5e6f-0';
    await stack.api.context.storage.put(`results/${job}/out.png`, photo, 'image/png');
    await writeFile(join(stack.storageDir, 'results', job, 'out.png.partial-1-2'), 'x');
    const ok = await fetch(`${stack.baseUrl}/v1/files/${job}/out.png`);
    expect(ok.status).toBe(200);
    await ok.arrayBuffer();
    for (const name of [
      'out.png.meta.json',
      'out.png.partial-1-2',
      '.x',
      '.',
      '..x',
      '.meta.json',
    ]) {
      const response = await fetch(`${stack.baseUrl}/v1/files/${job}/${name}`);
      expect({ name, status: response.status }).toEqual({ name, status: 404 });
      await response.arrayBuffer();
    }
    const dotJob = await fetch(`${stack.baseUrl}/v1/files/.x/out.png`);
    expect(dotJob.status).toBe(404);
  });
});

describe('MAX_FILES_PER_REQUEST counts inputs; the background has its own slot', () => {
  it('one input too many is refused; the limit plus a background is accepted', async () => {
    const three = await convert('count', image, [
      ['files', 'a.png', photo],
      ['files', 'b.png', photo],
      ['files', 'c.png', photo],
    ]);
    expect(three.status).toBe(400);
    expect(three.body.error).toContain('Too many files: at most 2 per request');
    const onBackground = (files: Parameters<typeof convert>[2]) =>
      convert('count', [...image, ['bg_type', 'image']], files);
    const withBackground = await onBackground([
      ['files', 'a.png', photo],
      ['files', 'b.png', photo],
      ['bg_image', 'bg.png', photo],
    ]);
    expect(withBackground.status).toBe(200);
    const twoBackgrounds = await onBackground([
      ['files', 'a.png', photo],
      ['bg_image', 'bg.png', photo],
      ['bg_image', 'bg2.png', photo],
    ]);
    expect(twoBackgrounds.status).toBe(400);
    expect(twoBackgrounds.body.error).toContain('Only one background per request');
  });
});

describe('MAX_FILES_IN_FLIGHT_PER_KEY counts the files of the request being checked', () => {
  it('a request that would take the key over the limit is a 429', async () => {
    const two = [
      ['files', 'a.png', photo],
      ['files', 'b.png', photo],
    ] as [string, string, Buffer][];
    expect((await convert('inflight', image, two)).status).toBe(200);
    const over = await convert('inflight', image, two);
    expect(over.status).toBe(429);
    expect(over.headers.get('retry-after')).toBeTruthy();
    expect(over.body.error).toContain('would take this key to 4 files in progress (limit 3)');
    expect((await convert('inflight', image, [['files', 'c.png', photo]])).status).toBe(200);
  });
});

describe('sizes in messages', () => {
  it('the 413 for a 500 KB limit says 500.0 KB', async () => {
    const big = await noisePng(600 * 1024);
    const { status, body } = await convert('size', image, [['files', 'big.png', big]]);
    expect(status).toBe(413);
    expect(body.error).toBe('big.png is larger than the upload limit of 500.0 KB');
  });
});

describe('form fields are never cut or overwritten silently', () => {
  it('a field over 64 KB: 400 naming it', async () => {
    const { status, body } = await convert(
      'fields',
      [...image, ['bg_color', 'a'.repeat(70 * 1024)]],
      [['files', 'a.png', photo]],
    );
    expect(status).toBe(400);
    expect(body.error).toBe('Parameter bg_color is longer than the limit of 64.0 KB');
  });

  it('a repeated parameter: 400 naming it; repeated files fields are fine', async () => {
    const { status, body } = await convert(
      'fields',
      [...image, ['convert_to', 'video-backgroundremover']],
      [['files', 'a.png', photo]],
    );
    expect(status).toBe(400);
    expect(body.error).toBe(
      'Parameter convert_to was sent more than once; send each parameter once',
    );
    const files = await convert('fields', image, [
      ['files', 'a.png', photo],
      ['files', 'b.png', photo],
    ]);
    expect(files.status).toBe(200);
  });
});
