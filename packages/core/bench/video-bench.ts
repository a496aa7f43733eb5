/**
 * Video pipeline benchmark (not a test). For a 10-second 720p and a 10-second 1080p clip it
 * prints frames per second end to end, the bare onnxruntime session.run rate measured in the
 * same run on the same model (just before and after each clip, averaged), their ratio, and the
 * peak RSS of this process during the clip (ffmpeg's processes are not included). Then it checks that peak
 * RSS stays flat when a clip is 6x longer (at a lower resolution, to keep the run short).
 *
 *   npm run bench:video -w @bgremover/core
 *   BENCH_FORMAT=webm BENCH_FPS=30 BENCH_LONG=0 npm run bench:video -w @bgremover/core
 *
 * BENCH_MODEL (u2netp), BENCH_FORMAT (mov), BENCH_FPS (25), BENCH_SECONDS (10),
 * BENCH_LONG (1: run the length check; its clips are 640x360 at 10 fps, 10 s and 60 s),
 * BENCH_SIZES (720p,1080p), BENCH_PIPELINES (model-size,frames: the model-size path, where
 * full-size pixels stay in ffmpeg, then the full-size path that alpha matting needs; the
 * model-size runs go first, so their peak RSS is not raised by the full-size runs').
 * The pipeline runs with the environment's settings: `VIDEO_MODEL_LANES=1` measures one
 * inference lane (the bare rate is always one run at a time on every thread).
 */

import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { makeLavfiClip } from '@bgremover/test-kit/lavfi-clip';
import * as ort from 'onnxruntime-node';
import {
  containerOf,
  loadCoreConfig,
  loadModel,
  type ModelName,
  parseVideoParams,
  removeVideoBackground,
  requireModelName,
  videoModelLanesOf,
} from '../src/index.js';
import { median } from './bench-support.js';

const config = loadCoreConfig();
const modelName: ModelName = requireModelName(process.env.BENCH_MODEL ?? 'u2netp');
const format = parseVideoParams({ video_format: process.env.BENCH_FORMAT ?? 'mov' }).video_format;
const fps = Number(process.env.BENCH_FPS ?? 25);
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const lengthCheck = (process.env.BENCH_LONG ?? '1') !== '0';
const pipelines = (process.env.BENCH_PIPELINES ?? 'model-size,frames').split(',').map((name) => {
  const trimmed = name.trim();
  if (trimmed !== 'model-size' && trimmed !== 'frames') {
    throw new Error(`BENCH_PIPELINES: unknown pipeline ${name} (model-size or frames)`);
  }
  return trimmed;
});
const sizes = (process.env.BENCH_SIZES ?? '720p,1080p').split(',').map((label) => {
  const table: Record<string, [number, number]> = {
    '360p': [640, 360],
    '720p': [1280, 720],
    '1080p': [1920, 1080],
  };
  const size = table[label.trim()];
  if (!size) throw new Error(`BENCH_SIZES: unknown size ${label}`);
  return { label: label.trim(), width: size[0], height: size[1] };
});

/** A moving test pattern with a bouncing disc over it and a sine track, H.264 + AAC. */
async function makeClip(
  dir: string,
  width: number,
  height: number,
  rate: number,
  length: number,
): Promise<string> {
  const disc = Math.round(height / 3);
  const r = disc / 2;
  return makeLavfiClip(join(dir, `clip-${width}x${height}-${rate}-${length}.mp4`), {
    video: [
      `testsrc2=s=${width}x${height}:r=${rate}:d=${length}[pattern]`,
      `color=c=0xd02020:s=${disc}x${disc}:r=${rate}:d=${length},format=rgba,geq=r='r(X,Y)':g='g(X,Y)':b='b(X,Y)':a='if(lt(hypot(X-${r},Y-${r}),${r}),255,0)'[disc]`,
      `[pattern][disc]overlay=x='(W-w)/2+(W-w)/2*sin(t)':y='(H-h)/2'`,
    ].join(';'),
    audio: `sine=frequency=440:duration=${length}`,
    preset: 'veryfast',
  });
}

/**
 * CPU seconds used so far by this process (every thread) and by its finished child processes
 * (the ffmpeg processes, from /proc/self/stat's cutime + cstime).
 */
function cpuSeconds(): { own: number; children: number } {
  const usage = process.cpuUsage();
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]?.split(' ') ?? [];
  // After the ")" the fields start at index 3 (state); cutime and cstime are fields 16 and 17.
  const ticks = Number(fields[13] ?? 0) + Number(fields[14] ?? 0);
  return { own: (usage.user + usage.system) / 1e6, children: ticks / 100 };
}

/** The bare session.run rate (runs per second) on one real normalised input. */
async function bareInferenceFps(runs = 15): Promise<number> {
  const model = await loadModel(modelName, config);
  const size = model.spec.inputSize;
  const data = new Float32Array(3 * size * size).map(() => Math.random() * 2 - 1);
  const input = new ort.Tensor('float32', data, [1, 3, size, size]);
  const times: number[] = [];
  await model.session.run({ [model.inputName]: input }, [model.outputName]);
  const cpuBefore = cpuSeconds().own;
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await model.session.run({ [model.inputName]: input }, [model.outputName]);
    times.push(performance.now() - start);
  }
  bareCpuPerRun.push((cpuSeconds().own - cpuBefore) / runs);
  return 1000 / median(times);
}

/** CPU seconds per bare run, from every bare measurement so far. */
const bareCpuPerRun: number[] = [];

/** Runs one clip end to end, sampling this process' RSS every 50 ms. */
async function measure(
  path: string,
  dir: string,
  pipeline: 'model-size' | 'frames' = 'model-size',
) {
  let peak = process.memoryUsage.rss();
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 50);
  const start = performance.now();
  const cpuStart = cpuSeconds();
  try {
    const result = await removeVideoBackground(
      path,
      { model: modelName, video_format: format },
      {
        config,
        pipeline: pipeline === 'frames' ? 'frames' : 'auto',
        outputPath: join(dir, `out-${Date.now()}.${containerOf(format).extension}`),
      },
    );
    const seconds = (performance.now() - start) / 1000;
    peak = Math.max(peak, process.memoryUsage.rss());
    const cpuEnd = cpuSeconds();
    return {
      frames: result.frames,
      cpuPerFrame: {
        own: (cpuEnd.own - cpuStart.own) / result.frames,
        ffmpeg: (cpuEnd.children - cpuStart.children) / result.frames,
      },
      fps: result.frames / seconds,
      inferenceInPipelineFps: (1000 * result.frames) / result.timings.inference,
      peakRssMb: peak / 1024 / 1024,
    };
  } finally {
    clearInterval(sampler);
  }
}

const mb = (value: number) => `${Math.round(value)} MB`;
const ms = (seconds: number) => `${Math.round(seconds * 1000)} ms`;
const rows: string[] = [];
const cpuRows: string[] = [];
const dir = await mkdtemp(join(tmpdir(), 'bgremover-video-bench-'));
try {
  await loadModel(modelName, config);
  process.stdout.write(
    `video benchmark: ${modelName}, video_format=${format}, ${seconds} s at ${fps} fps, ${videoModelLanesOf(config)} inference lane(s) (VIDEO_MODEL_LANES)\n\n`,
  );
  process.stdout.write(
    '| clip | path | frames | end-to-end fps | bare run fps (before / after) | ratio | run fps inside pipeline | peak RSS |\n',
  );
  process.stdout.write('| --- | --- | --- | --- | --- | --- | --- | --- |\n');
  const clips = new Map<string, string>();
  // A worker's sessions stay loaded from job to job: warm the pipeline's inference lanes (their
  // sessions' first runs grow onnxruntime's arenas) before timing, as the bare rate is timed
  // after a first run too.
  const warmClip = await makeClip(dir, 320, 240, fps, 1);
  await removeVideoBackground(
    warmClip,
    { model: modelName, video_format: format, frame_limit: 4 },
    { config, outputPath: join(dir, `warm.${containerOf(format).extension}`) },
  );
  for (const pipeline of pipelines)
    for (const size of sizes) {
      let clip = clips.get(size.label);
      if (!clip) {
        clip = await makeClip(dir, size.width, size.height, fps, seconds);
        clips.set(size.label, clip);
      }
      // The machine may be shared: the bare rate is measured just before and just after the clip
      // and averaged, so a change in load hits both sides of the ratio.
      const bareBefore = await bareInferenceFps();
      const measured = await measure(clip, dir, pipeline);
      const bareAfter = await bareInferenceFps();
      const bare = (bareBefore + bareAfter) / 2;
      const bareCpu = median(bareCpuPerRun.slice(-2));
      const pipelineCpu = measured.cpuPerFrame.own + measured.cpuPerFrame.ffmpeg;
      rows.push(
        `| ${size.label} ${seconds} s | ${pipeline} | ${measured.frames} | ${measured.fps.toFixed(2)} | ${bare.toFixed(2)} (${bareBefore.toFixed(2)} / ${bareAfter.toFixed(2)}) | ${(measured.fps / bare).toFixed(2)}x | ${measured.inferenceInPipelineFps.toFixed(2)} | ${mb(measured.peakRssMb)} |`,
      );
      cpuRows.push(
        `| ${size.label} | ${pipeline} | ${ms(bareCpu)} | ${ms(measured.cpuPerFrame.own)} | ${ms(measured.cpuPerFrame.ffmpeg)} | ${ms(pipelineCpu)} | ${(bareCpu / pipelineCpu).toFixed(2)}x |`,
      );
      process.stdout.write(`${rows.at(-1)}\n`);
    }
  process.stdout.write(
    '\nCPU time per frame (every thread of this process, and the ffmpeg processes), which other load on a shared machine does not change much. The model leaves part of the cores idle; the end-to-end rate can match the bare one when the non-inference part (total - bare) fits there:\n\n',
  );
  process.stdout.write(
    '| clip | path | bare run CPU | pipeline CPU (node, incl. inference) | ffmpeg CPU | pipeline CPU total | bare / total |\n| --- | --- | --- | --- | --- | --- | --- |\n',
  );
  for (const row of cpuRows) process.stdout.write(`${row}\n`);
  if (lengthCheck) {
    process.stdout.write('\nRSS against length (640x360, 10 fps):\n\n');
    process.stdout.write(
      '| clip | frames | end-to-end fps | peak RSS |\n| --- | --- | --- | --- |\n',
    );
    for (const length of [10, 60]) {
      const clip = await makeClip(dir, 640, 360, 10, length);
      const measured = await measure(clip, dir);
      process.stdout.write(
        `| 360p ${length} s | ${measured.frames} | ${measured.fps.toFixed(2)} | ${mb(measured.peakRssMb)} |\n`,
      );
    }
  }
  process.stdout.write(
    `\nprocess max RSS over the whole run: ${mb(process.resourceUsage().maxRSS / 1024)}\n`,
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}
