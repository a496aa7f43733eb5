import { copyFile, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, execFileAsync, type Stack, startStackWithScratch } from './api-harness.js';

const fixtures = fileURLToPath(new URL('../../../fixtures/images/', import.meta.url));
const clients = fileURLToPath(new URL('./seed-clients/', import.meta.url));
let stack: Stack;
let work: string;

beforeAll(async () => {
  ({ stack, scratch: work } = await startStackWithScratch('bgremover-seed-clients-'));
});
afterAll(() => stack?.close());

/** Runs `curl -F <field>...` against /v1/convert/ with the key, in `dir`; returns the uuid. */
async function curlConvert(dir: string, fields: string[]): Promise<string> {
  const convert = await execFileAsync(
    'curl',
    [
      '-s',
      ...fields.flatMap((field) => ['-F', field]),
      '-H',
      `Authorization: ${API_KEY}`,
      `${stack.baseUrl}/v1/convert/`,
    ],
    { cwd: dir },
  );
  return (JSON.parse(convert.stdout) as { uuid: string }).uuid;
}

/** The first Python on this machine that has the requests library (setup installs one). */
async function pythonWithRequests(): Promise<string> {
  for (const candidate of ['python3', '/usr/bin/python3']) {
    const ok = await execFileAsync(candidate, ['-c', 'import requests']).then(
      () => true,
      () => false,
    );
    if (ok) return candidate;
  }
  throw new Error('No python3 with the requests library: run scripts/setup.sh');
}

/** The seed's client with only the domain and scheme pointed at our server. */
async function pointAtLocalServer(source: string): Promise<string> {
  const host = new URL(stack.baseUrl).host;
  return (await readFile(join(clients, source), 'utf8'))
    .replaceAll('api.backgroundremoverai.com', host)
    .replace('port = "https"', 'port = "http"');
}

describe("the seed's example clients, unchanged but for the host", () => {
  it('Python with requests: converts, polls and downloads a valid PNG', async () => {
    const dir = join(work, 'python');
    await (await import('node:fs/promises')).mkdir(join(dir, 'testfiles'), { recursive: true });
    await sharp(join(fixtures, 'coffee.png'))
      .resize(200)
      .jpeg()
      .toFile(join(dir, 'testfiles', 'image.jpeg'));
    await writeFile(join(dir, 'client.py'), await pointAtLocalServer('image_example.py'));
    const python = await pythonWithRequests();
    const run = await execFileAsync(python, ['client.py'], { cwd: dir, timeout: 120_000 });
    expect(await readdir(dir), run.stdout + run.stderr).toContain('image_processed.png');
    const png = await sharp(join(dir, 'image_processed.png')).metadata();
    expect([png.format, png.width, png.channels]).toEqual(['png', 200, 4]);
  });

  it('curl: the convert and results commands, then the download', async () => {
    const dir = join(work, 'curl');
    await (await import('node:fs/promises')).mkdir(dir, { recursive: true });
    await copyFile(join(fixtures, 'chelsea.png'), join(dir, 'image.jpeg'));
    const uuid = await curlConvert(dir, [
      'lang=en',
      'convert_to=image-backgroundremover',
      'files=@image.jpeg',
    ]);
    expect(uuid).toMatch(/^[0-9a-f-]{36}$/);
    let results: {
      finished: boolean;
      files: { url: string; filename: string }[];
      queue_count: number;
      failed: unknown[];
      errors: unknown[];
    };
    for (;;) {
      const poll = await execFileAsync('curl', [
        '-s',
        '-F',
        `uuid=${uuid}`,
        `${stack.baseUrl}/v1/results/`,
      ]);
      results = JSON.parse(poll.stdout);
      // The seed's keys plus ours: warnings, and progress only while a started file runs.
      expect(
        Object.keys(results)
          .filter((key) => key !== 'progress')
          .sort(),
      ).toEqual(['errors', 'failed', 'files', 'finished', 'queue_count', 'warnings']);
      if (results.finished) expect(results).not.toHaveProperty('progress');
      if (results.finished) break;
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    expect(results.files).toEqual([
      {
        url: expect.stringMatching(/^\/v1\/files\/.+\/image_processed\.png$/),
        filename: 'image_processed.png',
      },
    ]);
    await execFileAsync(
      'curl',
      ['-s', '-o', 'result.png', `${stack.baseUrl}${results.files[0]!.url}`],
      { cwd: dir },
    );
    const png = await sharp(join(dir, 'result.png')).metadata();
    expect([png.format, png.width, png.height]).toEqual(['png', 451, 300]);
  });

  it('PHP-style file[0], file[1] fields and several files in one request', async () => {
    const dir = join(work, 'multi');
    await (await import('node:fs/promises')).mkdir(dir, { recursive: true });
    await sharp(join(fixtures, 'coffee.png')).resize(120).png().toFile(join(dir, 'a.png'));
    await sharp(join(fixtures, 'rocket.jpg')).resize(120).jpeg().toFile(join(dir, 'b.jpg'));
    const uuid = await curlConvert(dir, [
      'convert_to=image-backgroundremover',
      'only_mask=true',
      'file[0]=@a.png',
      'file[1]=@b.jpg',
    ]);
    let body: { finished: boolean; files: { filename: string }[] };
    do {
      await new Promise((resolve) => setTimeout(resolve, 300));
      body = JSON.parse(
        (await execFileAsync('curl', ['-s', '-d', `uuid=${uuid}`, `${stack.baseUrl}/v1/results/`]))
          .stdout,
      );
    } while (!body.finished);
    expect(body.files.map((file) => file.filename)).toEqual(['a_processed.png', 'b_processed.png']);
  });
});
