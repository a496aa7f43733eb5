import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeLavfiClip } from '@bgremover/test-kit/lavfi-clip';
import { type Browser, chromium, type Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadApiConfig } from '../src/config.js';
import { buildApiServer } from '../src/server.js';
import { WEB_PAGE_CSP } from '../src/web-page.js';
import { API_KEY, postForm, type Stack, startStackWithScratch } from './api-harness.js';

// The page at `/` driven in a real headless Chromium (Debian's `chromium`, which
// scripts/setup.sh installs): photo, clip and a text file named .png through the page, the
// results checked, screenshots kept and axe-core run.

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const require = createRequire(import.meta.url);
const photoFixture = fileURLToPath(
  new URL('../../../fixtures/images/astronaut.png', import.meta.url),
);
/** Kept by CI in the log (the paths are printed); ignored by git. */
const screenshotDir = fileURLToPath(new URL('../test-output/screenshots/', import.meta.url));

let stack: Stack;
let scratch: string;

beforeAll(async () => {
  ({ stack, scratch } = await startStackWithScratch('bgremover-web-page-'));
});
afterAll(() => stack?.close());

describe('GET / and its assets', () => {
  it('serves the page from memory with a strict CSP and ETags, and answers 304 to a revalidation', async () => {
    const page = await fetch(`${stack.baseUrl}/`);
    const html = await page.text();
    expect(page.status, 'is the API built? (npm run build -w @bgremover/api)').toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toBe(WEB_PAGE_CSP);
    expect(WEB_PAGE_CSP).toContain("script-src 'self'");
    expect(WEB_PAGE_CSP).not.toContain('unsafe-inline');
    expect(page.headers.get('cache-control')).toBe('no-cache');
    const etag = page.headers.get('etag');
    expect(etag).toMatch(/^"[\w-]+"$/);
    const again = await fetch(`${stack.baseUrl}/`, { headers: { 'if-none-match': etag ?? '' } });
    expect(again.status).toBe(304);

    // Assets are linked by their hash and cached for good at that address.
    const scriptUrl = /src="(\/web\/app\.js\?v=[\w-]+)"/.exec(html)?.[1];
    const styleUrl = /href="(\/web\/style\.css\?v=[\w-]+)"/.exec(html)?.[1];
    expect(scriptUrl).toBeDefined();
    expect(styleUrl).toBeDefined();
    expect(html).not.toMatch(/<script>|<script [^>]*>[^<]/);
    for (const url of [scriptUrl, styleUrl]) {
      const response = await fetch(`${stack.baseUrl}${url}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('cache-control')).toContain('immutable');
      expect(response.headers.get('etag')).toBeTruthy();
    }
  });

  it('describes the parameters from the zod schemas and lists the installed models', async () => {
    const response = await fetch(`${stack.baseUrl}/v1/form-schema`);
    const body = (await response.json()) as {
      image: { name: string; kind: string; default?: unknown; minimum?: number }[];
      video: { name: string; kind: string; options?: string[] }[];
      models: { name: string; runs: string }[];
      page_api_key: string | null;
    };
    expect(body.image.find((field) => field.name === 'alpha_fg')).toEqual({
      name: 'alpha_fg',
      kind: 'integer',
      default: 240,
      minimum: 0,
      maximum: 255,
    });
    expect(body.video.find((field) => field.name === 'video_format')?.options).toContain('webm');
    // The harness substitutes u2netp for u2net and u2net_human_seg (MODEL_SUBSTITUTES).
    expect(body.models.map((model) => model.name)).toEqual(
      expect.arrayContaining(['u2net', 'u2netp']),
    );
    expect(body.models.find((model) => model.name === 'u2net')?.runs).toBe('u2netp');
    // Off unless the operator sets WEB_PAGE_API_KEY.
    expect(body.page_api_key).toBeNull();
  });
});

describe('WEB_PAGE_API_KEY', () => {
  it('is off by default, must be one of API_KEYS, and is handed to the page when set', async () => {
    expect(loadApiConfig(stack.env).webPageApiKey).toBeUndefined();
    expect(() => loadApiConfig({ ...stack.env, WEB_PAGE_API_KEY: 'not-a-key' })).toThrow(
      /WEB_PAGE_API_KEY is not one of the keys in API_KEYS/,
    );
    const api = await buildApiServer(loadApiConfig({ ...stack.env, WEB_PAGE_API_KEY: API_KEY }));
    try {
      const response = await api.app.inject({ method: 'GET', url: '/v1/form-schema' });
      expect(response.json()).toMatchObject({ page_api_key: API_KEY });
      expect(response.headers['cache-control']).toBe('no-store');
    } finally {
      await api.close();
    }
  });
});

describe('the page in Chromium', () => {
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `Chromium is not installed at ${CHROMIUM}: run scripts/setup.sh (it installs Debian's chromium package), or set CHROMIUM_PATH`,
      );
    }
    await mkdir(screenshotDir, { recursive: true });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--autoplay-policy=no-user-gesture-required'],
    });
    const context = await browser.newContext({ acceptDownloads: true });
    page = await context.newPage();
    page.on('pageerror', (error) => process.stderr.write(`page error: ${error.message}\n`));
  });
  afterAll(() => browser?.close());

  async function screenshot(name: string): Promise<void> {
    const path = join(screenshotDir, name);
    await page.screenshot({ path, fullPage: true });
    process.stdout.write(`web page screenshot: ${path}\n`);
  }

  it('takes a photo, a clip and a non-image, and shows each result or error', async () => {
    const photo = join(scratch, 'astronaut.png');
    await copyFile(photoFixture, photo);
    const clip = await makeLavfiClip(join(scratch, 'clip.mp4'), {
      video: 'testsrc2=size=96x64:rate=8:duration=1',
    });
    const notes = join(scratch, 'notes.png');
    await writeFile(notes, 'This is a text file, not a picture.\n');

    const response = await page.goto(`${stack.baseUrl}/`);
    expect(response?.headers()['content-security-policy']).toBe(WEB_PAGE_CSP);
    // The key is typed once and remembered.
    await page.getByLabel('Your API key').fill(API_KEY);
    await page.getByLabel('Your API key').press('Tab');
    await page.reload();
    await expect.poll(() => page.getByLabel('Your API key').inputValue()).toBe(API_KEY);

    // The controls carry the schemas' defaults and ranges.
    const alphaFg = page.locator('#param-alpha_fg');
    await alphaFg.waitFor();
    expect(await alphaFg.inputValue()).toBe('240');
    expect(await alphaFg.getAttribute('max')).toBe('255');
    expect(await page.locator('#param-video_format').inputValue()).toBe('mov');
    expect(await page.locator('#param-model option').allTextContents()).toEqual(
      expect.arrayContaining([expect.stringMatching(/^u2netp:/)]),
    );
    // A format Chromium plays.
    await page.locator('#param-video_format').selectOption('webm');
    await screenshot('web-page-before.png');

    // The worker is paused while the files go in, so their queue places and a video's frame
    // progress can be seen for certain before it runs them.
    const worker = stack.worker?.worker;
    if (!worker) throw new Error('the harness started no worker');
    await worker.pause();
    await page.locator('#file-input').setInputFiles([photo, clip, notes]);
    const rows = page.locator('#results > li');
    await expect.poll(() => rows.count()).toBe(3);
    const status = (name: string) => rows.filter({ hasText: name }).locator('.status');
    // Images run before videos: the photo is next, the clip has one job ahead.
    await expect.poll(() => status('clip.mp4').textContent()).toBe('In the queue: 1 job ahead');
    await expect.poll(() => status('astronaut.png').textContent()).toBe('Waiting for a worker…');
    // A worker's progress report on the clip, as process-job.ts sends it, shows as frames.
    const queued = await stack.api.context.queue.getJobs(['waiting', 'prioritized']);
    const clipJob = queued.find((job) => job.data.input.filename === 'clip.mp4');
    if (clipJob?.data.target.kind !== 'api') throw new Error('no API job for clip.mp4');
    await stack.api.context.requests.markStarted(
      clipJob.data.target.requestId,
      clipJob.data.target.fileIndex,
    );
    await clipJob.updateProgress({
      stage: 'processing',
      percent: 50,
      framesDone: 4,
      framesTotal: 8,
    });
    const clipDetail = rows.filter({ hasText: 'clip.mp4' }).locator('.detail');
    await expect.poll(() => clipDetail.textContent()).toBe('processing: frame 4 of 8');
    await screenshot('web-page-during.png');
    worker.resume();
    const states = () =>
      rows.evaluateAll((items) =>
        items.map((item) => (item as unknown as { dataset: { state?: string } }).dataset.state),
      );
    await expect
      .poll(states, { timeout: 150_000, interval: 500 })
      .toEqual(['done', 'done', 'failed']);

    // The text file's row says what the server said.
    const refusal = await postForm(
      `${stack.baseUrl}/v1/convert/`,
      { convert_to: 'image-backgroundremover' },
      [['files', 'notes.png', await readFile(notes)]],
    );
    expect(refusal.status).toBe(415);
    const notesRow = rows.filter({ hasText: 'notes.png' });
    expect(await notesRow.locator('.status').textContent()).toBe(
      `Failed: ${refusal.body.error as string}`,
    );

    // The photo: the cut-out, downloaded through its link, has transparent and opaque pixels.
    const photoRow = rows.filter({ hasText: 'astronaut.png' });
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      photoRow.getByRole('link', { name: /^Download / }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('astronaut_processed.png');
    const saved = join(scratch, 'downloaded.png');
    await download.saveAs(saved);
    const { data, info } = await sharp(saved)
      .ensureAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    let transparent = 0;
    let opaque = 0;
    for (let index = info.channels - 1; index < data.length; index += info.channels) {
      const alpha = data[index] ?? 0;
      if (alpha < 16) transparent++;
      else if (alpha > 240) opaque++;
    }
    expect(transparent).toBeGreaterThan(0);
    expect(opaque).toBeGreaterThan(0);
    // The before/after slider uncovers the original.
    await photoRow.getByRole('slider').fill('50');
    expect(await photoRow.locator('img.before').getAttribute('style')).toContain('50%');

    // The clip plays.
    const video = rows.filter({ hasText: 'clip.mp4' }).locator('video');
    const duration = await video.evaluate(
      (node) =>
        new Promise<number>((resolve, reject) => {
          const player = node as unknown as {
            duration: number;
            readyState: number;
            addEventListener(type: string, listener: () => void): void;
          };
          if (player.readyState >= 1) resolve(player.duration);
          player.addEventListener('loadedmetadata', () => resolve(player.duration));
          player.addEventListener('error', () => reject(new Error('the video did not load')));
        }),
    );
    expect(duration).toBeGreaterThan(0);
    await screenshot('web-page-after.png');

    // A file dropped on the page (not picked) gets its row too, here with the server's refusal.
    await page.evaluate(`(() => {
      const data = new DataTransfer();
      data.items.add(new File(['not a picture'], 'dropped.png', { type: 'image/png' }));
      document.body.dispatchEvent(
        new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }),
      );
    })()`);
    await expect.poll(() => rows.count()).toBe(4);
    await expect
      .poll(() => status('dropped.png').textContent())
      .toMatch(/^Failed: dropped\.png is not an image or video/);

    // The CSP holds: an inline script cannot run on the page...
    const axePath = require.resolve('axe-core/axe.min.js');
    await expect(page.addScriptTag({ path: axePath })).rejects.toThrow(
      /violates the following Content Security Policy directive/,
    );
    // ...so axe-core goes in through the DevTools protocol, which CSP does not govern. No
    // serious or critical accessibility problem on the page with its results.
    await page.evaluate(await readFile(axePath, 'utf8'));
    const violations = await page.evaluate(async () => {
      const axe = (
        globalThis as unknown as {
          axe: {
            run(): Promise<{
              violations: { id: string; impact?: string | null; help: string }[];
            }>;
          };
        }
      ).axe;
      const result = await axe.run();
      return result.violations.map(({ id, impact, help }) => ({ id, impact, help }));
    });
    const serious = violations.filter(
      (violation) => violation.impact === 'serious' || violation.impact === 'critical',
    );
    expect(serious).toEqual([]);
  }, 240_000);
});
