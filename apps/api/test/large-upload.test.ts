import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { API_KEY, execFileAsync, spawnApi, stackEnv } from './api-harness.js';

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
});

async function rssKb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
}

describe('large uploads', () => {
  it('streams a 200 MB upload to storage without the server holding it in memory', async () => {
    const env = await stackEnv({ LOG_LEVEL: 'info' });
    const storageDir = env.STORAGE_DIR ?? '';
    cleanups.push(() => rm(storageDir, { recursive: true, force: true }));
    const bigFile = join(storageDir, '..', `big-${Date.now()}.png`);
    cleanups.push(() => rm(bigFile, { force: true }));
    // A real PNG's signature and header chunk, then one IDAT chunk of 200 MB of noise: sniffed
    // as an image, stored, queued (no worker runs in this test).
    const out = createWriteStream(bigFile);
    const png = await readFile(
      fileURLToPath(new URL('../../../fixtures/images/coffee.png', import.meta.url)),
    );
    const idat = Buffer.alloc(8);
    idat.writeUInt32BE(200 * 1024 * 1024, 0);
    idat.write('IDAT', 4, 'latin1');
    out.write(Buffer.concat([png.subarray(0, 33), idat]));
    for (let i = 0; i < 200; i++) {
      if (!out.write(randomBytes(1024 * 1024))) {
        await new Promise<void>((resolve) => out.once('drain', () => resolve()));
      }
    }
    await new Promise<void>((resolve) => out.end(() => resolve()));

    const { child, address } = spawnApi(env);
    cleanups.push(async () => {
      child.kill('SIGTERM');
    });
    const baseUrl = await address;
    const convert = (file: string) =>
      execFileAsync(
        'curl',
        [
          '-s',
          '-F',
          'convert_to=image-backgroundremover',
          '-F',
          `files=@${file}`,
          '-H',
          `Authorization: ${API_KEY}`,
          `${baseUrl}/v1/convert/`,
        ],
        {
          maxBuffer: 1024 * 1024,
        },
      );
    // Warm up (JIT, multipart parser, storage folders) with a small upload, then measure.
    await convert(fileURLToPath(new URL('../../../fixtures/images/coffee.png', import.meta.url)));
    const baseline = await rssKb(child.pid ?? 0);
    let peak = baseline;
    const sampler = setInterval(() => {
      rssKb(child.pid ?? 0).then(
        (value) => (peak = Math.max(peak, value)),
        () => undefined,
      );
    }, 50);
    const upload = await convert(bigFile);
    clearInterval(sampler);
    const { uuid } = JSON.parse(upload.stdout) as { uuid: string };
    expect(uuid).toMatch(/^[0-9a-f-]{36}$/);
    const stored = await stat(join(storageDir, 'inputs', uuid, `0-${bigFile.split('/').pop()}`));
    expect(stored.size).toBe(200 * 1024 * 1024 + 41);
    const growthMb = (peak - baseline) / 1024;
    console.log(
      `API RSS during a 200 MB upload: baseline ${(baseline / 1024).toFixed(0)} MB, peak ${(peak / 1024).toFixed(0)} MB (+${growthMb.toFixed(1)} MB)`,
    );
    expect(growthMb).toBeLessThan(48);
  }, 180_000);
});
