import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BgRemoverError, type Logger, loadCoreConfig } from '@bgremover/core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runBatch } from '../src/batch.js';
import { describeError, displayName } from '../src/file-errors.js';
import { collectInputs, imageOutputTarget, outputPath, videoOutputTarget } from '../src/inputs.js';

// The model is not what these tests are about: the image pipeline is replaced by one that fails
// as told by the file's content, or returns a small PNG.
vi.mock('@bgremover/core', async (original) => {
  const core = await original<typeof import('@bgremover/core')>();
  return {
    ...core,
    removeImageBackground: vi.fn(async (input: string) => {
      const content = (await readFile(input)).toString('latin1');
      if (content.startsWith('typeerror'))
        throw new TypeError("Cannot read properties of undefined (reading 'width')");
      if (content.startsWith('refuse')) {
        throw new core.BgRemoverError('unsupported_input', 'The file is not an image');
      }
      if (content.startsWith('plain')) throw new Error('sharp: VipsJpeg: premature end of input');
      const data = await sharp({
        create: { width: 2, height: 2, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } },
      })
        .png()
        .toBuffer();
      return { data, model: 'u2netp', warnings: [] };
    }),
  };
});

const exec = promisify(execFile);
let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'bgremover-cli-unit-'));
});
afterAll(() => rm(work, { recursive: true, force: true }));

const quiet: Logger = { info: () => undefined, warn: () => undefined };
const batchOptions = {
  config: loadCoreConfig({ ...process.env, INFERENCE_THREAD: 'false' }),
  params: {},
  videoParams: {},
  outputDir: undefined,
  backgroundImage: undefined,
  backgroundVideo: undefined,
  progress: false,
  logger: quiet,
};

describe('runBatch', () => {
  it('turns every kind of error into that file failing, and goes on', async () => {
    const folder = join(work, 'errors');
    await mkdir(folder, { recursive: true });
    const files = {
      bug: join(folder, 'bug.png'),
      refused: join(folder, 'refused.png'),
      plain: join(folder, 'plain.png'),
      fifo: join(folder, 'fifo.png'),
      gone: join(folder, 'gone.png'),
      good: join(folder, 'good.png'),
    };
    await writeFile(files.bug, 'typeerror');
    await writeFile(files.refused, 'refuse');
    await writeFile(files.plain, 'plain');
    await exec('mkfifo', [files.fifo]);
    await writeFile(files.good, 'good');
    const outcomes = await runBatch(Object.values(files), batchOptions);
    expect(outcomes.map((outcome) => [outcome.input, outcome.ok ? 'ok' : outcome.error])).toEqual([
      [files.bug, "internal error: Cannot read properties of undefined (reading 'width')"],
      [files.refused, 'The file is not an image'],
      [files.plain, 'sharp: VipsJpeg: premature end of input'],
      [files.fifo, 'not a regular file (FIFO)'],
      [files.gone, 'no such file or folder'],
      [files.good, 'ok'],
    ]);
    // Stacks are kept for --debug, except for refusals of the input.
    const [bug, refused] = outcomes;
    expect(bug?.ok === false && bug.stack).toMatch(/TypeError[^\n]*\n\s+at /);
    expect(refused).not.toHaveProperty('stack');
  });

  it('numbers repeated result names and keeps them within 255 bytes', async () => {
    const folder = join(work, 'repeat');
    await mkdir(folder, { recursive: true });
    const stem = 'b'.repeat(250);
    const png = join(folder, `${stem}.png`);
    const jpg = join(folder, `${stem}.jpg`);
    await writeFile(png, 'good');
    await writeFile(jpg, 'good');
    const outcomes = await runBatch([png, jpg], batchOptions);
    expect(outcomes.map((outcome) => outcome.ok && [outcome.output, outcome.shortened])).toEqual([
      [join(folder, `${'b'.repeat(241)}_processed.png`), true],
      [join(folder, `${'b'.repeat(239)}_processed_2.png`), true],
    ]);
  });
});

describe('collectInputs', () => {
  it('refuses FIFOs, loops and broken links by name, and skips them in folders', async () => {
    const folder = join(work, 'collect');
    await mkdir(join(folder, 'sub'), { recursive: true });
    await writeFile(join(folder, 'sub', 'photo.png'), 'x');
    await exec('mkfifo', [join(folder, 'fifo.png')]);
    await symlink('loop-b.png', join(folder, 'loop-a.png'));
    await symlink('loop-a.png', join(folder, 'loop-b.png'));
    await symlink('missing.png', join(folder, 'broken.png'));
    const { files, rejected } = await collectInputs([
      folder,
      join(folder, 'fifo.png'),
      join(folder, 'loop-a.png'),
      join(folder, 'broken.png'),
      join(folder, 'nope.png'),
      join(folder, 'sub', 'photo.png', 'deeper.png'),
    ]);
    expect(files).toEqual([join(folder, 'sub', 'photo.png')]);
    expect(rejected).toEqual([
      { input: join(folder, 'fifo.png'), reason: 'not a regular file (FIFO)' },
      {
        input: join(folder, 'loop-a.png'),
        reason: 'symbolic link loop (too many levels of symbolic links)',
      },
      {
        input: join(folder, 'broken.png'),
        reason: 'broken symbolic link (its target missing.png does not exist)',
      },
      { input: join(folder, 'nope.png'), reason: 'no such file or folder' },
      {
        input: join(folder, 'sub', 'photo.png', 'deeper.png'),
        reason: 'no such file or folder (a part of the path is not a folder)',
      },
    ]);
  });

  it('refuses a character device without opening it', async () => {
    const { files, rejected } = await collectInputs(['/dev/zero']);
    expect(files).toEqual([]);
    expect(rejected).toEqual([
      { input: '/dev/zero', reason: 'not a regular file (character device)' },
    ]);
  });
});

describe('output names', () => {
  it('cuts the stem at a character boundary and keeps suffix and extension', () => {
    const long = `/in/${'ф'.repeat(125)}.png`;
    const image = outputPath(imageOutputTarget(long, undefined, true));
    expect(image).toEqual({ path: `/in/${'ф'.repeat(123)}_mask.png`, shortened: true });
    const emoji = `/in/${'😀'.repeat(62)}.mp4`; // 248 bytes
    const video = outputPath(videoOutputTarget(emoji, '/out', 'mattekey'));
    expect(video).toEqual({ path: `/out/${'😀'.repeat(61)}_matte.mp4`, shortened: true });
    expect(outputPath(imageOutputTarget('/in/short.jpg', undefined, false))).toEqual({
      path: '/in/short_processed.png',
      shortened: false,
    });
  });
});

describe('describeError and displayName', () => {
  const errno = (code: string, path?: string) =>
    Object.assign(new Error(`${code}: something, open '${path}'`), { code, path });

  it('says what a file-system error means, naming another path than the file', () => {
    expect(describeError(errno('EACCES', '/a.png'), '/a.png')).toBe('permission denied');
    expect(describeError(errno('EACCES', '/model.onnx'), '/a.png')).toBe(
      'permission denied: /model.onnx',
    );
    expect(describeError(errno('ELOOP'), '/a.png')).toBe(
      'symbolic link loop (too many levels of symbolic links)',
    );
    expect(describeError(errno('EWHATEVER'))).toBe(
      "EWHATEVER: something, open 'undefined' (EWHATEVER)",
    );
    expect(describeError(new BgRemoverError('corrupt_input', 'The file is truncated'))).toBe(
      'The file is truncated',
    );
    expect(describeError('a string')).toBe('a string');
  });

  it('escapes control characters only', () => {
    expect(displayName('фото [1] q"x;y=z.png')).toBe('фото [1] q"x;y=z.png');
    expect(displayName('a\\b.png')).toBe('a\\b.png');
    expect(displayName('a\nb\u001b[31m\u0007\\.png')).toBe('a\\nb\\x1b[31m\\x07\\\\.png');
    expect(displayName('tab\there\u009b.png')).toBe('tab\\there\\x9b.png');
  });
});
