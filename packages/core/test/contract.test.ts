import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isVideoFile } from '../src/contract.js';
import { gifHasSeveralFrames } from '../src/video/gif-frames.js';
import { tempDir } from './helpers.js';
import { ffmpeg } from './video-helpers.js';

const run = promisify(execFile);
const coreRoot = fileURLToPath(new URL('..', import.meta.url));
let dir: { path: string; cleanup: () => Promise<void> };

beforeAll(async () => {
  dir = await tempDir('contract');
});
afterAll(async () => {
  await dir?.cleanup();
});

describe('@bgremover/core/contract', () => {
  it('loads no native module (no onnxruntime, no libvips) when imported', async () => {
    // Every native addon is loaded through process.dlopen: count the calls around the import.
    const probe = [
      'const loaded = [];',
      'const dlopen = process.dlopen;',
      'process.dlopen = (module, file, ...rest) => { loaded.push(file); return dlopen(module, file, ...rest); };',
      "const contract = await import('@bgremover/core/contract');",
      "const ok = typeof contract.parseImageParams === 'function' && contract.modelNames.includes('u2netp');",
      'console.log(JSON.stringify({ loaded, ok }));',
    ].join('\n');
    const { stdout } = await run(
      process.execPath,
      ['--conditions=source', '--import', 'tsx', '--input-type=module', '-e', probe],
      { cwd: coreRoot },
    );
    expect(JSON.parse(stdout.trim().split('\n').pop() ?? '{}')).toEqual({ loaded: [], ok: true });
    // The same probe sees the full entry point load its native modules (so it can fail).
    const full = probe.replace("'@bgremover/core/contract'", "'@bgremover/core'");
    const { stdout: fullOut } = await run(
      process.execPath,
      ['--conditions=source', '--import', 'tsx', '--input-type=module', '-e', full],
      { cwd: coreRoot },
    );
    const fullLoaded = JSON.parse(fullOut.trim().split('\n').pop() ?? '{}') as { loaded: string[] };
    expect(fullLoaded.loaded.some((file) => /sharp|onnxruntime/.test(file))).toBe(true);
  });

  it("counts a GIF's frames from its blocks as libvips does", async () => {
    const still = join(dir.path, 'still.gif');
    await sharp({ create: { width: 20, height: 10, channels: 3, background: '#c33' } })
      .gif()
      .toFile(still);
    const animated = join(dir.path, 'animated.gif');
    await ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=32x24:rate=5:duration=1', animated]);
    const truncated = join(dir.path, 'truncated.gif');
    const animatedMeta = await sharp(animated, { animated: true }).metadata();
    expect(animatedMeta.pages).toBeGreaterThan(1);
    await writeFile(truncated, (await readFile(animated)).subarray(0, 40));

    expect(await gifHasSeveralFrames(still)).toBe(false);
    expect(await gifHasSeveralFrames(animated)).toBe(true);
    expect(await gifHasSeveralFrames(truncated)).toBe(false);
    expect(await isVideoFile(animated)).toBe(true);
    expect(await isVideoFile(still)).toBe(false);
  });
});
