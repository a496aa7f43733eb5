/**
 * Batch benchmark (not a test): u2net frames per second at a batch of 1, 4 and 16 per
 * session.run, on the provider EXECUTION_PROVIDERS asks for (cuda on a GPU host; cpu here),
 * with the model's batch dimension made symbolic at load. Prints one row per batch size with
 * the ratio to a batch of 1. Falls back to u2netp, and says so, when u2net is not installed.
 *
 *   npm run bench:batch -w @bgremover/core
 *   EXECUTION_PROVIDERS=cuda,cpu BENCH_FRAMES=96 npm run bench:batch -w @bgremover/core
 *   BENCH_MODEL=u2netp BENCH_BATCHES=1,2,4,8 npm run bench:batch -w @bgremover/core
 */

import { access, readFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { loadCoreConfig } from '../src/config.js';
import { normalizeForModel, resizeForModel } from '../src/image/model-input.js';
import { predictRawBatch } from '../src/image/predict-masks-batch.js';
import { requireModelName } from '../src/models/provision.js';
import type { ModelName } from '../src/models/registry.js';
import { getModelSpec } from '../src/models/registry.js';
import { loadModel, releaseModels } from '../src/models/sessions.js';
import { median } from './bench-support.js';

const config = loadCoreConfig();
const batches = (process.env.BENCH_BATCHES ?? '1,4,16').split(',').map(Number);
/** Frames timed per batch size, in rounds of the largest batch (48: 3 rounds of 16 frames). */
const frames = Number(process.env.BENCH_FRAMES ?? 48);
const photos = ['astronaut.png', 'chelsea.png', 'coffee.png', 'rocket.jpg'];

async function installed(name: ModelName): Promise<boolean> {
  return access(join(config.modelsDir, getModelSpec(name).fileName)).then(
    () => true,
    () => false,
  );
}

async function chooseModel(): Promise<ModelName> {
  if (process.env.BENCH_MODEL) return requireModelName(process.env.BENCH_MODEL);
  if (await installed('u2net')) return 'u2net';
  console.log(
    `u2net is not installed in ${config.modelsDir} (removebg models pull u2net); ` +
      'measuring u2netp instead, the same graph with fewer channels',
  );
  return 'u2netp';
}

/** Real photos, resized and normalised as the pipeline does, repeated to `count` frames. */
async function inputFrames(name: ModelName, count: number): Promise<Float32Array[]> {
  const spec = getModelSpec(name);
  const distinct = await Promise.all(
    photos.map(async (photo) => {
      const path = fileURLToPath(new URL(`../../../fixtures/images/${photo}`, import.meta.url));
      const rgb = await resizeForModel(sharp(await readFile(path)), spec.inputSize);
      return normalizeForModel(rgb, spec.input);
    }),
  );
  return Array.from({ length: count }, (_, index) => distinct[index % distinct.length]!);
}

async function main(): Promise<void> {
  const name = await chooseModel();
  const model = await loadModel(name, config, undefined, { symbolicBatch: true });
  if (!model.symbolicBatch) throw new Error(`${name} could not be given a symbolic batch`);
  const largest = Math.max(...batches);
  const pool = await inputFrames(name, largest);
  console.log(
    `${name} on ${model.executionProvider} (EXECUTION_PROVIDERS=${config.executionProviders.join(',')}, ` +
      `intra-op threads ${config.intraOpThreads ?? 'default'}), ` +
      `${Math.max(1, Math.ceil(frames / largest)) * largest} frames per batch size; ` +
      `load average ${loadavg()[0]!.toFixed(1)}`,
  );
  // Rounds of `largest` frames at every batch size, the order rotated each round, so a change
  // in the machine's load during the run falls on every batch size alike.
  const rounds = Math.max(1, Math.ceil(frames / largest));
  const times = new Map(batches.map((batch) => [batch, [] as number[]]));
  for (const batch of batches) {
    await predictRawBatch(model, pool.slice(0, batch), { maxBatch: batch }); // warm-up
  }
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < batches.length; k++) {
      const batch = batches[(round + k) % batches.length]!;
      const tensors = pool.slice(0, batch);
      for (let call = 0; call < Math.ceil(largest / batch); call++) {
        const callStart = performance.now();
        await predictRawBatch(model, tensors, { maxBatch: batch });
        times.get(batch)!.push(performance.now() - callStart);
      }
    }
  }
  const rows = batches.map((batch) => {
    const calls = times.get(batch)!;
    const seconds = calls.reduce((sum, ms) => sum + ms, 0) / 1000;
    return { batch, callMs: median(calls), fps: (calls.length * batch) / seconds };
  });
  const base = rows.find((row) => row.batch === 1)?.fps ?? rows[0]!.fps;
  console.log('');
  console.log('| batch | ms per run (median) | ms per frame | frames/s | vs batch 1 |');
  console.log('| ---: | ---: | ---: | ---: | ---: |');
  for (const row of rows) {
    console.log(
      `| ${row.batch} | ${row.callMs.toFixed(0)} | ${(1000 / row.fps).toFixed(1)} | ` +
        `${row.fps.toFixed(2)} | ${(row.fps / base).toFixed(2)}x |`,
    );
  }
  console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
  // Timings on a shared machine mean little when other work holds the cores.
  console.log(
    `load average at the end: ${loadavg()
      .map((load) => load.toFixed(1))
      .join(' ')}`,
  );
  await releaseModels();
}

await main();
