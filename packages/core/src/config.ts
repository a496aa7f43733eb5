import { availableParallelism, homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import type { ModelName } from './models/registry.js';
import { parseModelSubstitutes } from './models/substitutes.js';

/** The rembg project's release folder, where u2net, u2net_human_seg and u2netp are published. */
export const REMBG_RELEASE_URL = 'https://github.com/danielgatis/rembg/releases/download/v0.0.0';

/** Execution providers onnxruntime-node can be asked for. */
export const executionProviderNames = ['cpu', 'cuda'] as const;
export type ExecutionProviderName = (typeof executionProviderNames)[number];

const executionProvidersSchema = z
  .string()
  .transform((text) =>
    text
      .split(',')
      .map((part) => part.trim().toLowerCase())
      .filter((part) => part.length > 0),
  )
  .pipe(
    z
      .array(z.enum(executionProviderNames, { error: 'EXECUTION_PROVIDERS lists cpu and/or cuda' }))
      .min(1, { error: 'EXECUTION_PROVIDERS must name at least one provider' }),
  );

const positiveInt = z.coerce.number().int().positive();

/**
 * What one video job may cost: pixels per frame (3840x2160; decoding, the model's input and the
 * composed frame are all this size), seconds processed and frames written (after framerate and
 * frame_limit). Used where a CoreConfig built by hand leaves them out.
 */
export const DEFAULT_VIDEO_LIMITS = {
  maxVideoPixels: 3840 * 2160,
  maxVideoSeconds: 600,
  maxVideoFrames: 18_000,
} as const;

/**
 * Pixels alpha matting works on at most (alpha_base_size is lowered to fit, with a warning); the
 * unknown band may hold at most half of them. The solver needs about 600 bytes per unknown
 * pixel, so 2 MP keeps one matting's solver under about 0.6 GB (see README, workers). The
 * default alpha_base_size (1000) mattes at 1 MP at most and is unaffected.
 */
export const DEFAULT_MAX_MATTING_PIXELS = 2_000_000;

/** The environment variables core reads, with their defaults. Parsed once by `loadCoreConfig`. */
export const coreEnvSchema = z.object({
  U2NET_HOME: z.string().min(1).optional(),
  DEFAULT_MODEL: z.string().min(1).optional(),
  MODEL_SUBSTITUTES: z.string().optional(),
  EXECUTION_PROVIDERS: executionProvidersSchema.default(['cpu']),
  MAX_INPUT_PIXELS: positiveInt.default(50_000_000),
  MAX_VIDEO_PIXELS: positiveInt.default(DEFAULT_VIDEO_LIMITS.maxVideoPixels),
  MAX_VIDEO_SECONDS: z.coerce.number().positive().default(DEFAULT_VIDEO_LIMITS.maxVideoSeconds),
  MAX_VIDEO_FRAMES: positiveInt.default(DEFAULT_VIDEO_LIMITS.maxVideoFrames),
  MAX_MATTING_PIXELS: positiveInt.default(DEFAULT_MAX_MATTING_PIXELS),
  MODEL_BASE_URL: z.url().default(REMBG_RELEASE_URL),
  MODEL_AUTO_DOWNLOAD: z.enum(['true', 'false']).default('true'),
  ORT_INTRA_OP_THREADS: positiveInt.optional(),
  IMAGE_THREADS: positiveInt.optional(),
  INFERENCE_THREAD: z.enum(['true', 'false']).default('true'),
  INFERENCE_BATCH: z.coerce.number().int().min(1).max(64).optional(),
  VIDEO_MODEL_LANES: z.coerce.number().int().min(1).max(16).optional(),
});

/** Settings the pipeline runs with. Build one with `loadCoreConfig` or by hand in tests. */
export interface CoreConfig {
  /** Folder holding `<model>.onnx` files (rembg's layout). */
  modelsDir: string;
  /** Model used when a request names none; undefined means u2net when installed, else u2netp. */
  defaultModel: string | undefined;
  /** Models run in place of ones that are not installed (MODEL_SUBSTITUTES), with a warning. */
  modelSubstitutes: Partial<Record<ModelName, ModelName>>;
  /** Execution providers in order of preference; cpu is always the fallback. */
  executionProviders: ExecutionProviderName[];
  /** Largest accepted image, in pixels (width x height), against decompression bombs. */
  maxInputPixels: number;
  /** Largest accepted video frame, in pixels (MAX_VIDEO_PIXELS); default 3840x2160. */
  maxVideoPixels?: number;
  /** Longest video processed, in seconds after frame_limit (MAX_VIDEO_SECONDS); default 600. */
  maxVideoSeconds?: number;
  /** Most frames one video job writes, after framerate and frame_limit (MAX_VIDEO_FRAMES). */
  maxVideoFrames?: number;
  /** Most pixels alpha matting works on (MAX_MATTING_PIXELS); larger pictures are matted smaller. */
  maxMattingPixels?: number;
  /** Base URL `models pull` and downloads on first use fetch `<file>.onnx` from. */
  modelBaseUrl: string;
  /**
   * Download and verify a model that is not installed the first time it is needed
   * (MODEL_AUTO_DOWNLOAD, default true); false for air-gapped sites, where a missing model fails
   * with instructions to install it by hand.
   */
  modelAutoDownload: boolean;
  /**
   * onnxruntime intra-op threads per inference; defaults to the core count. (onnxruntime's own
   * choice is one thread on some virtual machines, which halves the speed on two cores.)
   */
  intraOpThreads: number;
  /** libvips threads per image operation (sharp.concurrency); defaults to the core count. */
  imageThreads: number;
  /**
   * Run image inference on the process's inference thread (true: the event loop stays free, as a
   * server needs) or on the calling thread (false: slightly lower latency, for the CLI). Video
   * always uses the inference thread.
   */
  inferenceThread: boolean;
  /**
   * Video frames per model run (INFERENCE_BATCH). Unset: 8 when cuda is configured, 1 on the
   * CPU, where a batch is no faster and needs about 0.45 GB more per frame. Above 1, sessions are
   * opened with a symbolic batch dimension (see `onnx-batch.ts`).
   */
  inferenceBatch?: number;
  /**
   * Video frames the model works on at once, each on an inference thread of its own with
   * `intraOpThreads / lanes` threads (VIDEO_MODEL_LANES, default 1; see `videoModelLanesOf`).
   * Two lanes make video 5-13% faster on two cores, but each lane holds a session of its own
   * (about 320 MB more for u2netp, 360 MB more per job in all), so they are for hosts with
   * memory to spare.
   */
  videoModelLanes?: number;
}

/** Video frames per model run for a config (see `CoreConfig.inferenceBatch`). */
export function inferenceBatchOf(config: CoreConfig): number {
  return config.inferenceBatch ?? (config.executionProviders.includes('cuda') ? 8 : 1);
}

/**
 * Inference threads a video job runs frames on at once (see `CoreConfig.videoModelLanes`).
 * Two frames on one core each beat one frame on two cores once ffmpeg shares the machine:
 * onnxruntime's threads wait for each other at the end of every operator, and a thread that
 * ffmpeg preempted keeps the other one waiting (u2netp on two cores beside a busy process: 3.3
 * runs/s with two threads, 3.8 with two lanes). A symbolic-batch (GPU) session keeps one lane
 * and batches frames instead.
 */
export function videoModelLanesOf(config: CoreConfig): number {
  if (inferenceBatchOf(config) > 1) return 1;
  return config.videoModelLanes ?? 1;
}

/**
 * The environment with empty values removed: `FOO=` in an .env file means "not set", so the
 * default applies instead of failing validation.
 */
export function withoutBlankValues(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value.trim() !== ''),
  );
}

/**
 * Validates environment variables against a zod schema (empty values count as unset) and
 * returns the typed settings, or throws one error naming every malformed variable.
 */
export function parseEnvironment<S extends z.ZodType>(
  schema: S,
  env: NodeJS.ProcessEnv,
): z.output<S> {
  const parsed = schema.safeParse(withoutBlankValues(env));
  if (parsed.success) return parsed.data;
  const details = parsed.error.issues
    .map((issue) => `${issue.path.join('.')}: ${issue.message}`)
    .join('; ');
  throw new Error(`Invalid configuration: ${details}`);
}

/**
 * Reads core's settings from environment variables (see README "Configuration"). Throws a
 * message naming the variable when one is malformed.
 */
export function loadCoreConfig(env: NodeJS.ProcessEnv = process.env): CoreConfig {
  const values = parseEnvironment(coreEnvSchema, env);
  return {
    modelsDir: values.U2NET_HOME ?? join(homedir(), '.u2net'),
    defaultModel: values.DEFAULT_MODEL,
    modelSubstitutes: parseModelSubstitutes(values.MODEL_SUBSTITUTES),
    executionProviders: values.EXECUTION_PROVIDERS,
    maxInputPixels: values.MAX_INPUT_PIXELS,
    maxVideoPixels: values.MAX_VIDEO_PIXELS,
    maxVideoSeconds: values.MAX_VIDEO_SECONDS,
    maxVideoFrames: values.MAX_VIDEO_FRAMES,
    maxMattingPixels: values.MAX_MATTING_PIXELS,
    modelBaseUrl: values.MODEL_BASE_URL.replace(/\/+$/, ''),
    modelAutoDownload: values.MODEL_AUTO_DOWNLOAD === 'true',
    intraOpThreads: values.ORT_INTRA_OP_THREADS ?? availableParallelism(),
    imageThreads: values.IMAGE_THREADS ?? availableParallelism(),
    inferenceThread: values.INFERENCE_THREAD === 'true',
    ...(values.INFERENCE_BATCH === undefined ? {} : { inferenceBatch: values.INFERENCE_BATCH }),
    ...(values.VIDEO_MODEL_LANES === undefined
      ? {}
      : { videoModelLanes: values.VIDEO_MODEL_LANES }),
  };
}

/** The video limits of a config, defaults filled in. */
export function videoLimitsOf(config: CoreConfig): {
  maxVideoPixels: number;
  maxVideoSeconds: number;
  maxVideoFrames: number;
} {
  return {
    maxVideoPixels: config.maxVideoPixels ?? DEFAULT_VIDEO_LIMITS.maxVideoPixels,
    maxVideoSeconds: config.maxVideoSeconds ?? DEFAULT_VIDEO_LIMITS.maxVideoSeconds,
    maxVideoFrames: config.maxVideoFrames ?? DEFAULT_VIDEO_LIMITS.maxVideoFrames,
  };
}
