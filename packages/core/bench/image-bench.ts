/**
 * Image pipeline benchmark (not a test): for JPEGs of 0.3, 1, 4 and 12 megapixels it prints the
 * median time of each stage, the end-to-end median, the bare onnxruntime session.run median
 * measured in the same run on the same model, their ratio, and the peak RSS.
 *
 *   npm run bench              # u2netp, default repetitions
 *   BENCH_MODEL=u2net BENCH_RUNS=9 npm run bench
 */

import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import {
  closeInferenceThread,
  type ImageStageTimings,
  loadCoreConfig,
  loadModel,
  type ModelName,
  removeImageBackground,
  requireModelName,
} from '../src/index.js';
import { median, noisyJpeg } from './bench-support.js';

const sizes = [
  { label: '0.3 MP', width: 640, height: 480 },
  { label: '1 MP', width: 1224, height: 816 },
  { label: '4 MP', width: 2448, height: 1632 },
  { label: '12 MP', width: 4240, height: 2832 },
];
const runs = Number(process.env.BENCH_RUNS ?? 7);
const config = loadCoreConfig();
const modelName: ModelName = requireModelName(process.env.BENCH_MODEL ?? 'u2netp');
const photo = fileURLToPath(new URL('../../../fixtures/images/astronaut.png', import.meta.url));

async function makeJpeg(width: number, height: number): Promise<Buffer> {
  // A real photo scaled up, with a little noise so the JPEG is not unrealistically smooth.
  return noisyJpeg(sharp(photo).resize(width, height, { fit: 'cover' }), width, height);
}

async function bareInferenceMs(): Promise<number> {
  const model = await loadModel(modelName, config);
  const size = model.spec.inputSize;
  const data = new Float32Array(3 * size * size).map(() => Math.random() * 2 - 1);
  const input = new ort.Tensor('float32', data, [1, 3, size, size]);
  const times: number[] = [];
  for (let i = 0; i < runs + 1; i++) {
    const start = performance.now();
    await model.session.run({ [model.inputName]: input }, [model.outputName]);
    if (i > 0) times.push(performance.now() - start);
  }
  return median(times);
}

const stageNames: (keyof ImageStageTimings)[] = [
  'decode',
  'preprocess',
  'inference',
  'postprocess',
  'encode',
  'total',
];

async function main(): Promise<void> {
  console.log(`model ${modelName}, ${runs} runs per size (after one warm-up), medians in ms`);
  const bare = await bareInferenceMs();
  console.log(`bare session.run: ${bare.toFixed(1)} ms`);
  const header = ['size', 'input KB', ...stageNames, 'bare run', 'total/bare'];
  for (const inferenceThread of [false, true]) {
    const modeConfig = { ...config, inferenceThread };
    console.log(
      inferenceThread
        ? '\ninference on the inference thread (servers: INFERENCE_THREAD=true, the default)'
        : '\ninference on the calling thread (the CLI: INFERENCE_THREAD=false)',
    );
    console.log(header.join('\t'));
    for (const size of sizes) {
      const jpeg = await makeJpeg(size.width, size.height);
      const timings: ImageStageTimings[] = [];
      for (let i = 0; i < runs + 1; i++) {
        const result = await removeImageBackground(
          jpeg,
          { model: modelName },
          { config: modeConfig },
        );
        if (i > 0) timings.push(result.timings);
      }
      const medians = stageNames.map((stage) => median(timings.map((t) => t[stage])));
      const sameRunBare = await bareInferenceMs();
      const total = medians[stageNames.indexOf('total')]!;
      console.log(
        [
          `${size.label} (${size.width}x${size.height})`,
          (jpeg.length / 1024).toFixed(0),
          ...medians.map((value) => value.toFixed(1)),
          sameRunBare.toFixed(1),
          `${(total / sameRunBare).toFixed(2)}x`,
        ].join('\t'),
      );
    }
  }
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  console.log(`peak RSS: ${peakRssMb.toFixed(0)} MB`);
  console.log('target: total/bare <= 1.25x at 1 MP');
  await closeInferenceThread();
}

await main();
