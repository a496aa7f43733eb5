import { readdir } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, postForm, type Stack, startStack, waitForResults } from './api-harness.js';
import { noisePng } from './raw-http.js';

const fixtures = fileURLToPath(new URL('../../../fixtures/images/', import.meta.url));
let stack: Stack;
let photo: Buffer;
const image = { convert_to: 'image-backgroundremover' };

beforeAll(async () => {
  // Fresh key names, so rate-limit windows never carry over from an earlier run.
  const limited = `limited-${Date.now()}`;
  stack = await startStack({
    API_KEYS: `seed-${Date.now()}=${API_KEY},${limited}=limited-key`,
    API_KEY_RATE_LIMITS: `${limited}=3`,
    MAX_UPLOAD_BYTES: '3000000',
  });
  photo = await sharp(`${fixtures}coffee.png`).resize(120).png().toBuffer();
});
afterAll(() => stack.close());

const convertUrl = () => `${stack.baseUrl}/v1/convert/`;

describe('/v1/convert/ refuses bad requests with {"error"} and the right status', () => {
  it('a missing API key: 401', async () => {
    const { status, body } = await postForm(convertUrl(), image, [['files', 'a.png', photo]], {});
    expect(status).toBe(401);
    expect(body).toEqual({ error: 'Missing API key: send it in the Authorization header' });
  });

  it('a wrong API key: 401', async () => {
    const { status, body } = await postForm(convertUrl(), image, [['files', 'a.png', photo]], {
      authorization: 'nope',
    });
    expect(status).toBe(401);
    expect(body).toEqual({ error: 'Invalid API key' });
  });

  it('no files: 400', async () => {
    const { status, body } = await postForm(convertUrl(), image);
    expect(status).toBe(400);
    expect(body.error).toContain('No files');
  });

  it.each([
    {
      what: 'a bad parameter: 400 naming the field and the allowed values',
      fields: { ...image, bg_type: 'plaid' },
      status: 400,
      is: 'Invalid parameter bg_type: must be one of transparent, color, image (got "plaid")',
    },
    {
      what: 'an unknown model: 400 naming the known ones',
      fields: { ...image, model: 'u2net_cloth' },
      status: 400,
      contains: 'model: must be one of u2net, u2net_human_seg, u2netp',
    },
    {
      what: 'an image-only option sent with a video: 400 naming the video_format that does it',
      fields: { convert_to: 'video-backgroundremover', only_mask: 'true' },
      filename: 'clip.mp4',
      status: 400,
      is: "Invalid parameter only_mask: is an image option; a video's mask is video_format=mattekey",
    },
    {
      what: 'a missing or unknown convert_to: 400',
      fields: {},
      status: 400,
      contains: 'convert_to: is required',
    },
    {
      what: 'a text file named .jpg: 415, sniffed from the bytes',
      fields: image,
      filename: 'photo.jpg',
      bytes: Buffer.from('hello, not a photo'),
      status: 415,
      contains: 'photo.jpg is not an image or video',
    },
    {
      what: 'bg_type=image without a background picture: 400 naming bg_image',
      fields: { ...image, bg_type: 'image' },
      status: 400,
      contains: 'bg_image: bg_type=image needs a background image',
    },
  ] as {
    what: string;
    fields: Record<string, string>;
    filename?: string;
    bytes?: Buffer;
    status: number;
    is?: string;
    contains?: string;
  }[])('$what', async ({ fields, filename = 'a.png', bytes, status: wanted, is, contains }) => {
    const { status, body } = await postForm(convertUrl(), fields, [
      ['files', filename, bytes ?? photo],
    ]);
    expect(status).toBe(wanted);
    if (is !== undefined) expect(body.error).toBe(is);
    if (contains !== undefined) expect(body.error).toContain(contains);
  });

  it('a file over MAX_UPLOAD_BYTES: 413', async () => {
    // A PNG header, then 12 MB of noise: four times the stack's 3 MB limit.
    const big = await noisePng(12_000_000);
    const { status, body } = await postForm(convertUrl(), image, [['files', 'big.png', big]]);
    expect(status).toBe(413);
    expect(body.error).toContain('larger than the upload limit');
  });

  it('a client that goes away mid-upload leaves no file behind, and the server carries on', async () => {
    const boundary = 'abort-test-boundary';
    const head = Buffer.concat([
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="convert_to"\r\n\r\nimage-backgroundremover\r\n--${boundary}\r\nContent-Disposition: form-data; name="files"; filename="cut.png"\r\nContent-Type: image/png\r\n\r\n`,
      ),
      photo,
      Buffer.alloc(512 * 1024, 7),
    ]);
    const { port } = new URL(stack.baseUrl);
    const request = httpRequest({
      host: '127.0.0.1',
      port,
      path: '/v1/convert/',
      method: 'POST',
      headers: {
        authorization: API_KEY,
        'content-type': `multipart/form-data; boundary=${boundary}`,
        // Promises far more than is ever sent.
        'content-length': String(head.length + 2 * 1024 * 1024),
      },
    });
    request.on('error', () => undefined);
    request.write(head);
    await new Promise((resolve) => setTimeout(resolve, 300));
    request.destroy();

    const inputs = join(stack.storageDir, 'inputs');
    const leftOver = async () =>
      (await readdir(inputs, { recursive: true, withFileTypes: true }).catch(() => []))
        .filter((entry) => entry.isFile())
        .map((entry) => entry.name)
        .filter((name) => name.startsWith('0-cut.png'));
    const deadline = Date.now() + 5_000;
    while ((await leftOver()).length > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(await leftOver()).toEqual([]);
    const next = await postForm(convertUrl(), image, [['files', 'a.png', photo]]);
    expect(next.status).toBe(200);
  });

  it('a rate-limited key: 429 with Retry-After, other keys unaffected', async () => {
    const headers = { authorization: 'limited-key' };
    const answers = [];
    for (let i = 0; i < 4; i++)
      answers.push(await postForm(convertUrl(), image, [['files', 'a.png', photo]], headers));
    expect(answers.slice(0, 3).map((answer) => answer.status)).toEqual([200, 200, 200]);
    expect(answers[3]?.status).toBe(429);
    expect(Number(answers[3]?.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(answers[3]?.body.error).toContain('Rate limit of 3 requests per minute');
    const other = await postForm(convertUrl(), image, [['files', 'a.png', photo]]);
    expect(other.status).toBe(200);
  });
});

describe('per-file outcomes', () => {
  it('a request with good and bad files finishes the good ones and reports the bad ones', async () => {
    const { status, body } = await postForm(convertUrl(), image, [
      ['files', 'good.png', photo],
      ['files', 'notes.txt', Buffer.from('text')],
      ['files', 'empty.png', Buffer.alloc(0)],
    ]);
    expect(status).toBe(200);
    const results = await waitForResults(stack.baseUrl, body.uuid as string);
    expect(results.files).toEqual([{ url: expect.any(String), filename: 'good_processed.png' }]);
    expect((results.failed as { filename: string }[]).map((file) => file.filename)).toEqual([
      'notes.txt',
      'empty.png',
    ]);
    expect(results.errors).toEqual([
      expect.stringContaining('notes.txt is not an image or video'),
      'empty.png is empty (0 bytes)',
    ]);
  });

  it('a corrupt image is accepted and then reported failed with the worker message', async () => {
    const truncated = (await sharp(`${fixtures}rocket.jpg`).toBuffer()).subarray(0, 20_000);
    const { body } = await postForm(convertUrl(), image, [['files', 'cut.jpg', truncated]]);
    const results = await waitForResults(stack.baseUrl, body.uuid as string);
    expect(results.files).toEqual([]);
    expect(results.errors).toEqual([
      expect.stringContaining('cut.jpg: The file is corrupt or truncated'),
    ]);
  });
});

describe('/v1/results/ and downloads', () => {
  it('an unknown uuid: 404; no uuid: 400', async () => {
    const unknown = await fetch(`${stack.baseUrl}/v1/results/`, {
      method: 'POST',
      body: new URLSearchParams({ uuid: 'nope' }),
    });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ error: 'Unknown or expired uuid nope' });
    const missing = await fetch(`${stack.baseUrl}/v1/results/`, {
      method: 'POST',
      body: new URLSearchParams({}),
    });
    expect(missing.status).toBe(400);
  });

  it('downloads with content type, disposition and byte ranges; unknown files are 404', async () => {
    const { body } = await postForm(convertUrl(), image, [['files', 'dl.png', photo]]);
    const results = await waitForResults(stack.baseUrl, body.uuid as string);
    const url = `${stack.baseUrl}${(results.files as { url: string }[])[0]!.url}`;
    const whole = await fetch(url);
    expect(whole.headers.get('content-type')).toBe('image/png');
    expect(whole.headers.get('content-disposition')).toBe(
      'attachment; filename="dl_processed.png"',
    );
    const bytes = Buffer.from(await whole.arrayBuffer());
    const part = await fetch(url, { headers: { range: 'bytes=0-7' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 0-7/${bytes.length}`);
    expect(Buffer.from(await part.arrayBuffer())).toEqual(bytes.subarray(0, 8));
    const gone = await fetch(`${stack.baseUrl}/v1/files/nope-0/x.png`);
    expect(gone.status).toBe(404);
    expect(((await gone.json()) as { error: string }).error).toContain('results are kept for');
  });
});

describe('service endpoints', () => {
  it('serves /healthz, an OpenAPI document built from the parameter schemas, and a docs page', async () => {
    expect(await (await fetch(`${stack.baseUrl}/healthz`)).json()).toEqual({ status: 'ok' });
    const openapi = (await (await fetch(`${stack.baseUrl}/openapi.json`)).json()) as {
      components: {
        schemas: {
          ImageParams: { properties: Record<string, { maximum?: number; default?: unknown }> };
        };
      };
    };
    expect(openapi.components.schemas.ImageParams.properties.alpha_fg).toMatchObject({
      maximum: 255,
      default: 240,
    });
    const docs = await fetch(`${stack.baseUrl}/docs`);
    expect(docs.headers.get('content-type')).toContain('text/html');
    expect(await docs.text()).toContain('alpha_erode');
  });
});

describe('videos at the API', () => {
  it('refuses a zero-length or unreadable video per file before queueing it', async () => {
    // An MP4 signature with nothing playable behind it: sniffed as video, refused by ffprobe.
    const fake = Buffer.concat([
      Buffer.from([0, 0, 0, 0x18]),
      Buffer.from('ftypisom'),
      Buffer.alloc(12),
      Buffer.alloc(64, 1),
    ]);
    const { status, body } = await postForm(
      convertUrl(),
      { convert_to: 'video-backgroundremover' },
      [['files', 'broken.mp4', fake]],
    );
    expect(status).toBe(415);
    expect(body.error).toMatch(/^broken\.mp4: /);
  });
});
