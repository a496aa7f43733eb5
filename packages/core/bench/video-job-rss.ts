/**
 * Peak memory of one video job, as a worker process sees it (not a test). Each job runs in a
 * fresh child process that loads nothing else (no bare-run session beside the inference thread's,
 * unlike bench:video), and reports its peak RSS (sampled every 20 ms, and the kernel's maxRSS).
 *
 *   npm run bench:video-rss -w @bgremover/core
 *
 * BENCH_MODEL (u2netp), BENCH_FORMATS (mov,webm), BENCH_SIZES (720p,1080p), BENCH_SECONDS (4),
 * BENCH_PIPELINES (model-size,frames). The job runs with the environment's settings, so
 * `VIDEO_MODEL_LANES=1 npm run bench:video-rss -w @bgremover/core` measures one inference lane.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  closeInferenceThread,
  containerOf,
  loadCoreConfig,
  parseVideoParams,
  removeVideoBackground,
  videoModelLanesOf,
} from '../src/index.js';

const run = promisify(execFile);
const self = fileURLToPath(import.meta.url);

if (process.argv[2] === '--job') {
  await runOneJob(process.argv[3] ?? '', process.argv[4] ?? 'mov', process.argv[5] ?? 'auto');
} else {
  await main();
}

/** The child: one job, then its peak RSS as JSON on stdout. */
async function runOneJob(clip: string, format: string, pipeline: string): Promise<void> {
  const config = loadCoreConfig();
  let peak = process.memoryUsage.rss();
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 20);
  const dir = await mkdtemp(join(tmpdir(), 'bgremover-rss-'));
  try {
    const params = parseVideoParams({
      model: process.env.BENCH_MODEL ?? 'u2netp',
      video_format: format,
    });
    const result = await removeVideoBackground(clip, params, {
      config,
      pipeline: pipeline === 'frames' ? 'frames' : 'auto',
      outputPath: join(dir, `out.${containerOf(params.video_format).extension}`),
    });
    clearInterval(sampler);
    const maxRss = process.resourceUsage().maxRSS * 1024;
    process.stdout.write(
      `${JSON.stringify({ frames: result.frames, peakMb: Math.max(peak, maxRss) / 1048576 })}\n`,
    );
  } finally {
    clearInterval(sampler);
    await closeInferenceThread();
    await rm(dir, { recursive: true, force: true });
  }
}

/** The parent: makes the clips and runs each job in its own process. */
async function main(): Promise<void> {
  const seconds = Number(process.env.BENCH_SECONDS ?? 4);
  const formats = (process.env.BENCH_FORMATS ?? 'mov,webm').split(',');
  const pipelines = (process.env.BENCH_PIPELINES ?? 'model-size,frames').split(',');
  const table: Record<string, [number, number]> = {
    '360p': [640, 360],
    '720p': [1280, 720],
    '1080p': [1920, 1080],
  };
  const sizes = (process.env.BENCH_SIZES ?? '720p,1080p').split(',');
  const dir = await mkdtemp(join(tmpdir(), 'bgremover-rss-bench-'));
  try {
    process.stdout.write(
      `peak RSS of one video job in a fresh process (${process.env.BENCH_MODEL ?? 'u2netp'}, ${seconds} s at 25 fps, ${videoModelLanesOf(loadCoreConfig())} inference lane(s): VIDEO_MODEL_LANES)\n\n| clip | format | path | frames | peak RSS |\n| --- | --- | --- | --- | --- |\n`,
    );
    for (const size of sizes) {
      const dimensions = table[size.trim()];
      if (!dimensions) throw new Error(`BENCH_SIZES: unknown size ${size}`);
      const clip = join(dir, `${size}.mp4`);
      await run('ffmpeg', [
        ...['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi'],
        ...['-i', `testsrc2=s=${dimensions[0]}x${dimensions[1]}:r=25:d=${seconds}`],
        ...['-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', clip],
      ]);
      for (const format of formats) {
        for (const pipeline of pipelines) {
          const { stdout } = await run(
            process.execPath,
            ['--conditions=source', '--import', 'tsx', self, '--job', clip, format, pipeline],
            { maxBuffer: 1 << 20 },
          );
          const report = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as {
            frames: number;
            peakMb: number;
          };
          process.stdout.write(
            `| ${size} | ${format} | ${pipeline} | ${report.frames} | ${Math.round(report.peakMb)} MB |\n`,
          );
        }
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
