import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const mainScript = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const fixtures = fileURLToPath(new URL('../../../fixtures/images/', import.meta.url));

/** Runs the real CLI in a child process (real model, real files). */
function removebg(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--conditions=source', '--import', 'tsx', mainScript, ...args],
      { env: { ...process.env, FORCE_COLOR: '0' }, timeout: 120_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'bgremover-cli-'));
});
afterAll(() => rm(work, { recursive: true, force: true }));

async function smallCopy(name: string, into: string, width = 200): Promise<string> {
  const target = join(into, name.replace(/\.\w+$/, '.png'));
  await sharp(join(fixtures, name)).resize(width).png().toFile(target);
  return target;
}

describe('removebg', () => {
  it('prints usage with --help', async () => {
    const { code, stdout } = await removebg(['--help']);
    expect(code).toBe(0);
    expect(stdout).toContain('--alpha-matting');
    expect(stdout).toContain('models pull');
  });

  it('processes a folder, writes results beside the inputs, and keeps going past a bad file', async () => {
    const folder = join(work, 'batch');
    await mkdir(join(folder, 'nested'), { recursive: true });
    await smallCopy('chelsea.png', folder);
    await smallCopy('coffee.png', join(folder, 'nested'));
    const fake = join(folder, 'notes.png');
    await writeFile(fake, 'just text');
    const { code, stdout, stderr } = await removebg([folder]);
    expect(code).toBe(1);
    expect(stderr).toContain(`${fake}: The file is not an image`);
    expect(stdout).toContain('2 done, 1 failed');
    expect((await readdir(folder)).sort()).toEqual(
      ['chelsea.png', 'chelsea_processed.png', 'nested', 'notes.png'].sort(),
    );
    expect(await readdir(join(folder, 'nested'))).toContain('coffee_processed.png');
    const meta = await sharp(join(folder, 'chelsea_processed.png')).metadata();
    expect([meta.width, meta.channels, meta.format]).toEqual([200, 4, 'png']);

    // A second run does not pick up the first run's results as inputs.
    const again = await removebg([folder, '-q']);
    expect(again.stderr).not.toContain('_processed.png:');
  });

  it('writes masks to -o DIR at the original size with the seed parameters as flags', async () => {
    const input = await smallCopy('astronaut.png', work, 160);
    const out = join(work, 'masks');
    const { code, stdout } = await removebg([input, '-o', out, '--only-mask', '--model', 'u2netp']);
    expect(code).toBe(0);
    expect(stdout).toContain('(u2netp,');
    const meta = await sharp(join(out, 'astronaut_mask.png')).metadata();
    expect([meta.width, meta.height, meta.channels]).toEqual([160, 160, 1]);
  });

  it('composes over a colour given with --bg-color', async () => {
    const input = await smallCopy('coffee.png', work, 120);
    const out = join(work, 'colour');
    const { code } = await removebg([input, '-o', out, '--bg-color', '#ff0000']);
    expect(code).toBe(0);
    const { data, info } = await sharp(join(out, 'coffee_processed.png'))
      .raw()
      .toBuffer({ resolveWithObject: true });
    expect(info.channels).toBe(3);
    expect([...data.subarray(0, 3)]).toEqual([255, 0, 0]); // the corner is background
  });

  it('refuses an out-of-range parameter naming it, before touching any file', async () => {
    const input = await smallCopy('coffee.png', work, 100);
    const { code, stderr } = await removebg([input, '--alpha-fg', '300']);
    expect(code).toBe(2);
    expect(stderr).toContain('alpha_fg: must be an integer from 0 to 255 (got 300)');
  });

  it('refuses an unknown flag with the usage', async () => {
    const { code, stderr } = await removebg(['--colour', 'red', 'x.png']);
    expect(code).toBe(2);
    expect(stderr).toContain("Unknown option '--colour'");
    expect(stderr).toContain('Usage:');
  });

  it('reports a missing path and an unknown model clearly', async () => {
    const input = await smallCopy('coffee.png', work, 100);
    const missing = await removebg([join(work, 'nope.jpg')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('nope.jpg: no such file or folder');
    const unknown = await removebg([input, '--model', 'u2net_cloth']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('model: must be one of u2net, u2net_human_seg, u2netp');
  });

  it('lists models and says which are installed', async () => {
    const { code, stdout } = await removebg(['models', 'list']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/u2netp\s+4\.6 MB/);
  });

  it('pulls a model into U2NET_HOME, verifying it', async () => {
    const home = join(work, 'models');
    await mkdir(home, { recursive: true });
    const result = await new Promise<{ code: number; stdout: string }>((resolve) => {
      execFile(
        process.execPath,
        ['--conditions=source', '--import', 'tsx', mainScript, 'models', 'pull', 'u2netp'],
        { env: { ...process.env, U2NET_HOME: home }, timeout: 120_000 },
        (error, stdout) => resolve({ code: error ? 1 : 0, stdout }),
      );
    });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('u2netp: installed and verified');
    expect(await readdir(home)).toEqual(['u2netp.onnx']);
  });
});
