/**
 * PNG size benchmark (not a test). For u2netp cut-outs of real photos at 1 and 12 megapixels it
 * prints the bytes of our PNG against a standard PNG of the same pixels, the encode time, and
 * the same figures for libvips at level 1 without filtering (the encoder used before); then
 * image end-to-end time against the bare model run at 1 MP.
 *
 * "The same pixels" is the RGBA we write, colour under alpha 0 already black. The standard PNG
 * is zlib level 6 with adaptive filtering, as libpng and PIL write by default, made by
 * bench/reference-png.ts (Node's zlib); libvips at level 6 with adaptive filtering (libpng,
 * zlib-ng) is printed beside it. Every PNG is decoded and checked against the pixels.
 *
 * The photos are the fixtures (public domain / CC0, see fixtures/LICENSES.md), 0.2-0.3 MP,
 * scaled up with Lanczos-3; "camera" adds Gaussian noise (sigma 6) and a JPEG round trip at
 * quality 90, as bench/image-bench.ts does, since upscaled photos are smoother than a camera's.
 *
 *   npm run bench:png
 *   BENCH_RUNS=9 npm run bench:png     # repetitions for the timings (default 5)
 */

import { availableParallelism, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { cutOut } from '../src/image/compose.js';
import { encodePng } from '../src/image/encode.js';
import {
  type CoreConfig,
  closeInferenceThread,
  loadCoreConfig,
  loadModel,
  type RawImage,
  removeImageBackground,
} from '../src/index.js';
import { fixture, median, noisyJpeg } from './bench-support.js';
import { referencePng } from './reference-png.js';

const runs = Number(process.env.BENCH_RUNS ?? 5);
const config = loadCoreConfig();
const model = 'u2netp' as const;
const photos = ['astronaut.png', 'coffee.png', 'chelsea.png', 'rocket.jpg'];
const sizes = [
  { label: '1 MP', width: 1224, height: 816 },
  { label: '12 MP', width: 4000, height: 3000 },
];
const limits = { ratio: 1.1, endToEnd: 1.35 };

async function timed<T>(count: number, run: () => Promise<T>): Promise<{ result: T; ms: number }> {
  let result = await run(); // warm-up
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    result = await run();
    times.push(performance.now() - start);
  }
  return { result, ms: median(times) };
}

/** A fixture photo scaled (cover) to the size, as a lossless PNG or a noisy JPEG. */
async function photoInput(
  file: string,
  width: number,
  height: number,
  camera: boolean,
): Promise<Buffer> {
  const scaled = sharp(fixture(file)).resize(width, height, { fit: 'cover', kernel: 'lanczos3' });
  if (!camera) return scaled.png({ compressionLevel: 1 }).toBuffer();
  return noisyJpeg(scaled, width, height);
}

async function decode(png: Buffer): Promise<RawImage> {
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels as 3 | 4 };
}

async function expectPixels(png: Buffer, pixels: RawImage, what: string): Promise<void> {
  const decoded = await decode(png);
  if (decoded.channels !== pixels.channels || !decoded.data.equals(pixels.data)) {
    throw new Error(`${what}: the PNG does not decode to the pixels`);
  }
}

interface Row {
  case: string;
  ours: number;
  ourMs: number;
  reference: number;
  vips6: number;
  before: number;
  beforeMs: number;
}

/** libvips' PNG of the pixels at level 6 with adaptive filtering, the size to compare with. */
function vipsLevel6(pixels: RawImage): Promise<Buffer> {
  const raw = { raw: { width: pixels.width, height: pixels.height, channels: pixels.channels } };
  return sharp(pixels.data, raw).png({ compressionLevel: 6, adaptiveFiltering: true }).toBuffer();
}

type Timed = { result: Buffer; ms: number };

/** A table row: each encoder's PNG size, and the timed ones' medians. */
function row(label: string, ours: Timed, reference: Buffer, vips6: Buffer, before: Timed): Row {
  return {
    case: label,
    ours: ours.result.length,
    ourMs: ours.ms,
    reference: reference.length,
    vips6: vips6.length,
    before: before.result.length,
    beforeMs: before.ms,
  };
}

/** Cuts the photo out (the production path: removeImageBackground) and measures its PNG. */
async function measureCutOut(input: Buffer, label: string, count: number): Promise<Row> {
  const options = { config };
  const result = await removeImageBackground(input, { model }, options);
  const pixels = await decode(result.data);
  if (pixels.channels !== 4) throw new Error(`${label}: the cut-out is not RGBA`);
  // The encode stage alone, as production runs it: the decoded photo and the mask.
  const photo = await decode(await sharp(input).png({ compressionLevel: 0 }).toBuffer());
  const maskPng = (await removeImageBackground(input, { model, only_mask: true }, options)).data;
  const mask = await sharp(maskPng).extractChannel(0).raw().toBuffer();
  const ours = await timed(count, () => encodePng(cutOut(photo, mask)));
  await expectPixels(ours.result, pixels, `${label}: ours`);
  const reference = referencePng(pixels.data, pixels.width, pixels.height, 4);
  await expectPixels(reference, pixels, `${label}: reference`);
  const vips6 = await vipsLevel6(pixels);
  // Before: the colour cleared under alpha 0, then libvips joining the mask and writing the PNG.
  const cleared = Buffer.from(photo.data);
  for (let pixel = 0; pixel < mask.length; pixel++) {
    if (mask[pixel] === 0) cleared.fill(0, pixel * 3, pixel * 3 + 3);
  }
  const size = { width: pixels.width, height: pixels.height };
  const before = await timed(count, () =>
    sharp(cleared, { raw: { ...size, channels: 3 } })
      .joinChannel(mask, { raw: { ...size, channels: 1 } })
      .png({ compressionLevel: 1, adaptiveFiltering: false })
      .toBuffer(),
  );
  await expectPixels(before.result, pixels, `${label}: before`);
  return row(label, ours, reference, vips6, before);
}

/** The subject over an opaque colour: RGB, measured against the standard PNG of that RGB. */
async function measureOverColour(input: Buffer, label: string): Promise<Row> {
  const result = await removeImageBackground(
    input,
    { model, bg_type: 'color', bg_color_value: '#2060c0' },
    { config },
  );
  const pixels = await decode(result.data);
  if (pixels.channels !== 3) throw new Error(`${label}: over a colour is not RGB`);
  const reference = referencePng(pixels.data, pixels.width, pixels.height, 3);
  await expectPixels(reference, pixels, `${label}: reference`);
  const raw = { raw: { width: pixels.width, height: pixels.height, channels: 3 as const } };
  const vips6 = await vipsLevel6(pixels);
  const before = await timed(runs, () =>
    sharp(pixels.data, raw).png({ compressionLevel: 1, adaptiveFiltering: false }).toBuffer(),
  );
  const ours = await timed(runs, () => encodePng(pixels));
  return row(label, ours, reference, vips6, before);
}

const kb = (bytes: number) => (bytes / 1024).toFixed(0);

function printRows(rows: Row[]): void {
  console.log(
    [
      'case',
      'ours KB',
      'level-6 KB',
      'ours/level-6',
      'vips L6 KB',
      'ours/vips L6',
      'ours encode ms',
      'before KB',
      'before/level-6',
      'before encode ms',
    ].join('\t'),
  );
  for (const row of rows) {
    console.log(
      [
        row.case,
        kb(row.ours),
        kb(row.reference),
        `${(row.ours / row.reference).toFixed(3)}x`,
        kb(row.vips6),
        `${(row.ours / row.vips6).toFixed(3)}x`,
        row.ourMs.toFixed(1),
        kb(row.before),
        `${(row.before / row.reference).toFixed(2)}x`,
        row.beforeMs.toFixed(1),
      ].join('\t'),
    );
  }
}

async function bareRunMs(modeConfig: CoreConfig): Promise<number> {
  const loaded = await loadModel(model, modeConfig);
  const size = loaded.spec.inputSize;
  const data = new Float32Array(3 * size * size).map(() => Math.random() * 2 - 1);
  const tensor = new ort.Tensor('float32', data, [1, 3, size, size]);
  const { ms } = await timed(runs, () =>
    loaded.session.run({ [loaded.inputName]: tensor }, [loaded.outputName]),
  );
  return ms;
}

async function endToEnd(input: Buffer): Promise<void> {
  console.log('\nend to end at 1 MP (camera astronaut), medians in ms');
  console.log(['mode', 'total', 'encode', 'bare run', 'total/bare', 'PNG KB'].join('\t'));
  for (const inferenceThread of [true, false]) {
    const modeConfig = { ...config, inferenceThread };
    const totals: number[] = [];
    const encodes: number[] = [];
    let bytes = 0;
    for (let i = 0; i <= runs; i++) {
      const result = await removeImageBackground(input, { model }, { config: modeConfig });
      if (i === 0) continue; // warm-up
      totals.push(result.timings.total);
      encodes.push(result.timings.encode);
      bytes = result.data.length;
    }
    const total = median(totals);
    const bare = await bareRunMs(modeConfig);
    console.log(
      [
        inferenceThread ? 'inference thread (servers)' : 'calling thread (CLI)',
        total.toFixed(1),
        median(encodes).toFixed(1),
        bare.toFixed(1),
        `${(total / bare).toFixed(2)}x`,
        kb(bytes),
      ].join('\t'),
    );
  }
  console.log(`target: total/bare <= ${limits.endToEnd}x`);
}

async function main(): Promise<void> {
  console.log(
    `model ${model}; ${availableParallelism()} cores, load average ${loadavg()[0]!.toFixed(1)}; ` +
      `timings are medians of ${runs} runs after a warm-up`,
  );
  console.log(
    'photos: the fixtures scaled up with Lanczos-3 (cover) to 1224x816 (1 MP) and 4000x3000 (12 MP); "camera" adds noise and JPEG q90',
  );
  console.log(
    'level-6: zlib level 6 + adaptive filtering (bench/reference-png.ts); vips L6: libvips/libpng level 6 + adaptive filtering;\n' +
      'before: the encoder this replaced, libvips joining the mask and writing level 1 without filtering; encode ms = that stage alone\n',
  );
  const rows: Row[] = [];
  for (const size of sizes) {
    const count = size.width * size.height > 4_000_000 ? Math.min(runs, 3) : runs;
    for (const file of photos) {
      for (const camera of [false, true]) {
        const input = await photoInput(file, size.width, size.height, camera);
        const label = `${size.label} ${file.split('.')[0]}${camera ? ' camera' : ''}`;
        rows.push(await measureCutOut(input, label, count));
      }
    }
  }
  console.log('cut-outs (RGBA)');
  printRows(rows);
  const worst = Math.max(...rows.map((row) => row.ours / row.reference));
  console.log(`worst ours/level-6: ${worst.toFixed(3)}x (limit ${limits.ratio}x)`);

  const coloured: Row[] = [];
  for (const size of sizes) {
    const input = await photoInput('astronaut.png', size.width, size.height, true);
    coloured.push(await measureOverColour(input, `${size.label} astronaut camera`));
  }
  console.log('\nover a colour (RGB, no alpha channel)');
  printRows(coloured);

  await endToEnd(await photoInput('astronaut.png', 1224, 816, true));
  await closeInferenceThread();
}

await main();
