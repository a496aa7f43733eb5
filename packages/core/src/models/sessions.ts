import { readFile } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import { type CoreConfig, type ExecutionProviderName, inferenceBatchOf } from '../config.js';
import { BgRemoverError } from '../errors.js';
import { type Logger, stderrLogger } from '../logger.js';
import { findChecksumMismatch } from './checksum.js';
import { makeBatchSymbolic } from './onnx-batch.js';
import { ensureModelFile } from './provision.js';
import { getModelSpec, type ModelName, type ModelSpec } from './registry.js';

/** A model ready to run: its spec, its onnxruntime session and the tensor names to use. */
export interface LoadedModel {
  spec: ModelSpec;
  session: ort.InferenceSession;
  inputName: string;
  outputName: string;
  /** The provider the session actually runs on. */
  executionProvider: ExecutionProviderName;
  /**
   * True when the session takes any batch size (the model was edited at load, see
   * `LoadModelOptions.symbolicBatch`); absent or false means a batch of 1 per run.
   */
  symbolicBatch?: boolean;
}

/** How `loadModel` opens a model. */
export interface LoadModelOptions {
  /**
   * Edit the model at load so its batch dimension is symbolic and one run can take N frames
   * (`predictMasksBatch`). Defaults to true when EXECUTION_PROVIDERS lists cuda, where batching
   * pays; on the CPU one frame per run is as fast, so it stays off unless asked for.
   */
  symbolicBatch?: boolean;
}

const sessionCache = new Map<string, Promise<LoadedModel>>();

/**
 * Returns the process-wide session for a model, creating it on first use: the file is located
 * (or downloaded once when missing, if MODEL_AUTO_DOWNLOAD allows), verified against its pinned
 * checksums, and opened on the first execution provider that works (cuda falls back to cpu
 * with a logged warning). Concurrent callers share one load; a failed load is not cached, so a
 * later call tries again.
 */
export function loadModel(
  name: ModelName,
  config: CoreConfig,
  logger: Logger = stderrLogger,
  options: LoadModelOptions = {},
): Promise<LoadedModel> {
  const symbolicBatch = options.symbolicBatch ?? inferenceBatchOf(config) > 1;
  const key = [
    config.modelsDir,
    name,
    config.executionProviders.join(','),
    config.intraOpThreads,
    symbolicBatch,
  ]
    .map(String)
    .join('\u0000');
  let loading = sessionCache.get(key);
  if (!loading) {
    loading = createLoadedModel(name, config, logger, symbolicBatch);
    sessionCache.set(key, loading);
    loading.catch(() => sessionCache.delete(key));
  }
  return loading;
}

/** Drops every cached session (releasing native memory); for tests and shutdown. */
export async function releaseModels(): Promise<void> {
  const loads = [...sessionCache.values()];
  sessionCache.clear();
  for (const load of loads) {
    try {
      await (await load).session.release();
    } catch {
      // A load that failed has nothing to release.
    }
  }
}

async function createLoadedModel(
  name: ModelName,
  config: CoreConfig,
  logger: Logger,
  symbolicBatch: boolean,
): Promise<LoadedModel> {
  const spec = getModelSpec(name);
  const path = await ensureModelFile(name, config, logger);
  const mismatch = await findChecksumMismatch(path, spec);
  if (mismatch) {
    throw new BgRemoverError(
      'model_checksum_mismatch',
      `Model file ${path} is damaged or not the expected ${name} (${mismatch}); delete it and run "removebg models pull ${name}"`,
    );
  }
  const source = symbolicBatch ? await batchEditedModel(path, logger) : path;
  const { session, provider } = await openSession(source, config, logger);
  const inputName = session.inputNames[0];
  const outputName = session.outputNames[0];
  if (!inputName || !outputName) {
    throw new Error(`Model ${name} at ${path} has no inputs or outputs`);
  }
  return {
    spec,
    session,
    inputName,
    outputName,
    executionProvider: provider,
    symbolicBatch: typeof source !== 'string',
  };
}

/**
 * The model's bytes with a symbolic batch dimension, or its path (a batch of 1, with a logged
 * warning) when its graph cannot take one.
 */
async function batchEditedModel(path: string, logger: Logger): Promise<Uint8Array | string> {
  try {
    return makeBatchSymbolic(await readFile(path)).bytes;
  } catch (error) {
    logger.warn('Model keeps a batch of 1 per run', {
      path,
      reason: (error as Error).message,
    });
    return path;
  }
}

async function openSession(
  source: string | Uint8Array,
  config: CoreConfig,
  logger: Logger,
): Promise<{ session: ort.InferenceSession; provider: ExecutionProviderName }> {
  const baseOptions: ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: 'all',
    intraOpNumThreads: config.intraOpThreads,
    // onnxruntime's pool threads spin after each run by default, burning the cores that image
    // decoding, matte scaling and encoding need right then.
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  };
  for (const provider of config.executionProviders) {
    if (provider === 'cpu') break;
    try {
      const session = await createSession(source, {
        ...baseOptions,
        executionProviders: [provider],
      });
      return { session, provider };
    } catch (error) {
      logger.warn(`Execution provider ${provider} is unavailable; falling back to cpu`, {
        reason: (error as Error).message.split('\n')[0],
      });
    }
  }
  const session = await createSession(source, {
    ...baseOptions,
    // The memory pattern plans one block for every intermediate tensor of a run and keeps it in
    // the arena: 620 MB of RSS for u2netp at 320x320. Without it the arena reuses freed tensors
    // (peak 425 MB), and runs take as long (measured here: medians 680-770 ms either way).
    enableMemPattern: false,
    executionProviders: ['cpu'],
  });
  return { session, provider: 'cpu' };
}

/** Opens a session from a model file's path or from its (edited) bytes. */
function createSession(
  source: string | Uint8Array,
  options: ort.InferenceSession.SessionOptions,
): Promise<ort.InferenceSession> {
  return typeof source === 'string'
    ? ort.InferenceSession.create(source, options)
    : ort.InferenceSession.create(source, options);
}
