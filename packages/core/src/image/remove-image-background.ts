import { performance } from 'node:perf_hooks';
import type { Sharp } from 'sharp';
import { type CoreConfig, DEFAULT_MAX_MATTING_PIXELS } from '../config.js';
import { BgRemoverError } from '../errors.js';
import { loadThreadedModel, type ThreadedModel } from '../inference/inference-thread.js';
import type { Logger } from '../logger.js';
import { matteImage } from '../matting/matte-image.js';
import type { ModelName } from '../models/registry.js';
import { loadModel } from '../models/sessions.js';
import { chooseModel } from '../models/substitutes.js';
import { parseHexColor } from '../params/color.js';
import type { ImageParams, ImageParamsInput } from '../params/image-params.js';
import { parseImageParams } from '../params/parse.js';
import { fitBackgroundImage } from './background-image.js';
import { composeOver, composeOverColor, cutOut } from './compose.js';
import { decodePixels, inspectImage, type RawImage, rawImageToSharp, readInput } from './decode.js';
import { encodePng, type RgbAndAlpha } from './encode.js';
import { resizeMask } from './mask.js';
import { normalizeForModel, resizeForModel } from './model-input.js';
import { predictMask } from './predict-mask.js';
import { useImageThreads } from './runtime.js';

/** Wall-clock milliseconds spent in each stage of one image. */
export interface ImageStageTimings {
  /** Decoding the full picture to RGBA (after the header check and model load). */
  decode: number;
  /** Resizing to the model's input and normalising. */
  preprocess: number;
  /** onnxruntime session.run. */
  inference: number;
  /** Scaling the mask to full size and setting up the output composition (matting excluded). */
  postprocess: number;
  /** Alpha matting in its worker thread, including the transfers (0 when not requested). */
  matting: number;
  /** Running the composition (joining alpha, compositing a background) and PNG encoding. */
  encode: number;
  /** The whole call, end to end. */
  total: number;
}

export interface RemoveImageOptions {
  config: CoreConfig;
  /** Where model downloads and substitutions are logged (stderr when not given). */
  logger?: Logger;
  /** The background picture for bg_type=image (bytes or a path). */
  background?: Buffer | string;
}

export interface ImageResult {
  /** The encoded output. */
  data: Buffer;
  contentType: 'image/png';
  width: number;
  height: number;
  /** The model that ran. */
  model: ModelName;
  /** Things the caller should tell the person (an option not applied, say). */
  warnings: string[];
  timings: ImageStageTimings;
}

/**
 * Removes an image's background as the protocol's image parameters describe and returns a PNG
 * at the input's (EXIF-oriented) size: the straight-alpha cut-out, the mask alone
 * (`only_mask`), or the subject over a colour or a cover-fitted background picture. Parameters
 * may be form strings. Bad input throws `BgRemoverError` naming the problem.
 */
export async function removeImageBackground(
  input: Buffer | string,
  params: ImageParamsInput | ImageParams,
  options: RemoveImageOptions,
): Promise<ImageResult> {
  const started = performance.now();
  const { config } = options;
  const parsed = parseImageParams(params);
  useImageThreads(config.imageThreads);
  const warnings = collectWarnings(parsed, options);
  if (parsed.bg_type === 'image' && !parsed.only_mask && options.background === undefined) {
    throw new BgRemoverError(
      'missing_background',
      'bg_type=image needs a background picture: send it as bg_image',
      { field: 'bg_image' },
    );
  }

  const { model: modelName, warnings: modelWarnings } = await chooseModel(
    parsed.model,
    config,
    ...(options.logger ? [options.logger] : []),
  );
  warnings.push(...modelWarnings);
  // onnxruntime's session.run holds the calling thread for the whole run: servers run it on the
  // inference thread so their event loop stays free (lock renewal, HTTP); the CLI may not.
  const modelLoading = config.inferenceThread
    ? loadThreadedModel(modelName, config)
    : loadCallerThreadModel(modelName, config);
  modelLoading.catch(() => undefined);
  const image = await inspectImage(await readInput(input), config.maxInputPixels);

  const model = await modelLoading;
  const decodeStart = performance.now();
  const pixels = await decodePixels(image);
  const preprocessStart = performance.now();
  const size = model.inputSize;
  const resized = await resizeForModel(rawImageToSharp(pixels), size);
  const tensor = normalizeForModel(resized, model.normalization);
  const inferenceStart = performance.now();
  const smallMask = await model.predict(tensor);
  const inferenceEnd = performance.now();

  const postprocessStart = performance.now();
  let mask: Uint8Array = await resizeMask(smallMask, size, image.width, image.height);
  const mattingStart = performance.now();
  if (parsed.alpha_matting) {
    const matte = await matteImage({
      rgb: rgbOf(pixels),
      width: pixels.width,
      height: pixels.height,
      mask,
      params: parsed,
      maxPixels: config.maxMattingPixels ?? DEFAULT_MAX_MATTING_PIXELS,
    });
    warnings.push(...matte.warnings);
    mask = matte.alpha;
    if (matte.stats.applied) replaceColour(pixels, matte.foreground);
  }
  const mattingEnd = performance.now();
  const output = await composeOutput(pixels, mask, parsed, options, config.maxInputPixels);
  const encodeStart = performance.now();
  const data = await encodePng(output);
  const finished = performance.now();

  return {
    data,
    contentType: 'image/png',
    width: pixels.width,
    height: pixels.height,
    model: modelName,
    warnings,
    timings: {
      decode: preprocessStart - decodeStart,
      preprocess: inferenceStart - preprocessStart,
      inference: inferenceEnd - inferenceStart,
      postprocess: encodeStart - postprocessStart - (mattingEnd - mattingStart),
      matting: mattingEnd - mattingStart,
      encode: finished - encodeStart,
      total: finished - started,
    },
  };
}

/**
 * Builds the output picture: raw pixels, or a lazy pipeline that `encodePng` runs. The mask
 * alone is grey; the cut-out RGBA; the subject over an opaque colour or picture is opaque
 * everywhere, so it is RGB (no alpha channel is written).
 */
async function composeOutput(
  pixels: RawImage,
  mask: Uint8Array,
  params: ImageParams,
  options: RemoveImageOptions,
  maxPixels: number,
): Promise<RawImage | RgbAndAlpha | Sharp> {
  const { width, height } = pixels;
  if (params.only_mask) {
    const data = Buffer.from(mask.buffer, mask.byteOffset, mask.length);
    return { data, width, height, channels: 1 };
  }
  const cutout = cutOut(pixels, mask);
  if (params.bg_type === 'color') {
    return composeOverColor(cutout, parseHexColor(params.bg_color_value));
  }
  if (params.bg_type === 'image' && options.background !== undefined) {
    const bytes = await readInput(options.background);
    const background = await fitBackgroundImage(bytes, width, height, maxPixels);
    return composeOver(cutout, background);
  }
  return cutout;
}

/** The picture's colour as packed RGB (decoded pictures are RGB or RGBA). */
function rgbOf(pixels: RawImage): Uint8Array {
  if (pixels.channels === 3) return pixels.data;
  const rgb = new Uint8Array(pixels.width * pixels.height * 3);
  for (let from = 0, to = 0; to < rgb.length; from += 4, to += 3) {
    rgb[to] = pixels.data[from]!;
    rgb[to + 1] = pixels.data[from + 1]!;
    rgb[to + 2] = pixels.data[from + 2]!;
  }
  return rgb;
}

/** Writes the matting's estimated foreground colour over the picture's RGB, keeping its alpha. */
function replaceColour(pixels: RawImage, foreground: Uint8Array): void {
  if (pixels.channels === 3) {
    pixels.data.set(foreground);
    return;
  }
  for (let from = 0, to = 0; from < foreground.length; from += 3, to += 4) {
    pixels.data[to] = foreground[from]!;
    pixels.data[to + 1] = foreground[from + 1]!;
    pixels.data[to + 2] = foreground[from + 2]!;
  }
}

function collectWarnings(params: ImageParams, options: RemoveImageOptions): string[] {
  const warnings: string[] = [];
  if (params.only_mask && params.bg_type !== 'transparent') {
    warnings.push(`bg_type=${params.bg_type} is ignored because only_mask=true returns the mask`);
  }
  if (options.background !== undefined && params.bg_type !== 'image') {
    warnings.push(`the background picture is ignored because bg_type=${params.bg_type}`);
  }
  return warnings;
}

/** The model on the calling thread, with the same shape as the inference thread's handle. */
async function loadCallerThreadModel(name: ModelName, config: CoreConfig): Promise<ThreadedModel> {
  const model = await loadModel(name, config);
  return {
    name,
    inputSize: model.spec.inputSize,
    normalization: model.spec.input,
    predict: (input) => predictMask(model, input),
    batch: 1,
    predictBatch: (inputs) => Promise.all(inputs.map((input) => predictMask(model, input))),
    lanes: 1,
  };
}
