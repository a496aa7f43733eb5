import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
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

const exec = promisify(execFile);

/** A small clip made with ffmpeg: a red disc moving over noise, with a sine track. */
async function makeVideo(path: string, seconds = 1): Promise<string> {
  await exec('ffmpeg', [
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    `color=c=0x6b7d6b:s=160x120:r=10:d=${seconds},noise=alls=30:allf=t+u`,
    '-f',
    'lavfi',
    '-i',
    `color=c=0xdc2828:s=40x60:r=10:d=${seconds}`,
    '-f',
    'lavfi',
    '-i',
    `sine=frequency=440:duration=${seconds}`,
    '-filter_complex',
    "[0:v][1:v]overlay=x='20+n*6':y=30,format=yuv420p[v]",
    '-map',
    '[v]',
    '-map',
    '2:a',
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-c:a',
    'aac',
    '-shortest',
    path,
  ]);
  return path;
}

async function probe(path: string): Promise<{ codec: string; frames: number; fps: string }> {
  const { stdout } = await exec('ffprobe', [
    '-v',
    'error',
    '-select_streams',
    'v:0',
    '-count_frames',
    '-show_entries',
    'stream=codec_name,nb_read_frames,avg_frame_rate',
    '-of',
    'json',
    path,
  ]);
  const stream = (JSON.parse(stdout) as { streams: Record<string, string>[] }).streams[0] ?? {};
  return {
    codec: stream.codec_name ?? '',
    frames: Number(stream.nb_read_frames),
    fps: stream.avg_frame_rate ?? '',
  };
}

describe('removebg with videos', () => {
  it('documents the video flags in --help', async () => {
    const { stdout } = await removebg(['--help']);
    for (const flag of [
      '--video-format',
      '--framerate',
      '--frame-limit',
      '--video-bg-color',
      '--bg-video',
    ]) {
      expect(stdout).toContain(flag);
    }
  });

  it('turns a video into a transparent WebM with a frame progress bar', async () => {
    const folder = join(work, 'video-webm');
    await mkdir(folder, { recursive: true });
    const input = await makeVideo(join(folder, 'clip.mp4'));
    const out = join(folder, 'out');
    const result = await removebg([
      input,
      '-o',
      out,
      '--model',
      'u2netp',
      '--video-format',
      'webm',
      '--frame-limit',
      '3',
      '--progress',
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(
      `${input} -> ${join(out, 'clip_processed.webm')} (u2netp, 3 frames,`,
    );
    expect(result.stderr).toMatch(/3\/3 frames/);
    expect(await probe(join(out, 'clip_processed.webm'))).toMatchObject({
      codec: 'vp9',
      frames: 3,
    });
  });

  it('handles images and videos in one folder, resampling with --framerate', async () => {
    const folder = join(work, 'mixed');
    await mkdir(folder, { recursive: true });
    await makeVideo(join(folder, 'clip.mov'), 1);
    await smallCopy('coffee.png', folder, 100);
    const result = await removebg([
      folder,
      '--video-format',
      'mattekey',
      '--framerate',
      '5',
      '--model',
      'u2netp',
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('2 done, 0 failed');
    expect((await readdir(folder)).sort()).toEqual(
      ['clip.mov', 'clip_matte.mp4', 'coffee.png', 'coffee_processed.png'].sort(),
    );
    expect(await probe(join(folder, 'clip_matte.mp4'))).toMatchObject({
      codec: 'h264',
      frames: 5,
      fps: '5/1',
    });
    // Results are not taken as inputs on a second run.
    const again = await removebg([folder, '-q', '--frame-limit', '1']);
    expect(again.stderr).not.toContain('_matte.mp4:');
  });

  it('refuses --only-mask and --bg-color for a video, naming the format that does it, and still does the picture', async () => {
    const folder = join(work, 'image-options');
    await mkdir(folder, { recursive: true });
    await makeVideo(join(folder, 'clip.mov'), 1);
    await smallCopy('coffee.png', folder, 100);
    const masked = await removebg([folder, '--only-mask', '--model', 'u2netp']);
    expect(masked.code).toBe(1);
    expect(masked.stdout + masked.stderr).toContain(
      "only_mask: is an image option; a video's mask is video_format=mattekey",
    );
    expect(masked.stdout).toContain('1 done, 1 failed');
    const mask = await sharp(join(folder, 'coffee_mask.png')).metadata();
    expect(mask.channels).toBe(1);
    const coloured = await removebg([folder, '--bg-color', '#ff0000', '--model', 'u2netp']);
    expect(coloured.stdout + coloured.stderr).toContain(
      'bg_color_value: is an image option; a video over a colour is video_format=mp4_with_color',
    );
    expect((await readdir(folder)).filter((name) => name.startsWith('clip_'))).toEqual([]);
  });

  it('composes over a picture with --bg-image and refuses video_over_video without --bg-video', async () => {
    const folder = join(work, 'video-bg');
    await mkdir(folder, { recursive: true });
    const input = await makeVideo(join(folder, 'clip.mp4'), 0.5);
    const picture = await smallCopy('chelsea.png', folder, 120);
    const over = await removebg([
      input,
      '--video-format',
      'video_over_image',
      '--bg-image',
      picture,
      '--frame-limit',
      '2',
    ]);
    expect(over.code, over.stderr).toBe(0);
    expect(await probe(join(folder, 'clip_processed.mp4'))).toMatchObject({
      codec: 'h264',
      frames: 2,
    });
    const refused = await removebg([
      input,
      '--video-format',
      'video_over_video',
      '--frame-limit',
      '2',
    ]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      'video_over_video needs a background video: send it as bg_video',
    );
  });

  it('refuses bad video parameters and files that are not videos, clearly', async () => {
    const folder = join(work, 'video-bad');
    await mkdir(folder, { recursive: true });
    const input = await makeVideo(join(folder, 'clip.mp4'), 0.5);
    const badRate = await removebg([input, '--framerate', '100']);
    expect(badRate.code).toBe(2);
    expect(badRate.stderr).toContain('framerate:');
    const badFormat = await removebg([input, '--video-format', 'avi']);
    expect(badFormat.code).toBe(2);
    expect(badFormat.stderr).toContain('video_format:');
    const fake = join(folder, 'fake.mp4');
    await writeFile(fake, 'not a video at all');
    const notVideo = await removebg([fake]);
    expect(notVideo.code).toBe(1);
    expect(notVideo.stderr).toContain(`${fake}: The file is not a video`);
  });
});
