import type { CoreConfig } from '../config.js';
import { type Logger, stderrLogger } from '../logger.js';
import {
  ensureModelFile,
  isModelInstalled,
  ModelDownloadError,
  modelFilePath,
  requireModelName,
  resolveModelName,
} from './provision.js';
import type { ModelName } from './registry.js';

/**
 * Parses MODEL_SUBSTITUTES, e.g. `u2net=u2netp,u2net_human_seg=u2netp`: what an operator who
 * cannot install a model wants run instead. Both names must be known models.
 */
export function parseModelSubstitutes(
  text: string | undefined,
): Partial<Record<ModelName, ModelName>> {
  const substitutes: Partial<Record<ModelName, ModelName>> = {};
  for (const pair of (text ?? '')
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)) {
    const [from, to] = pair.split('=').map((name) => name?.trim() ?? '');
    if (!from || !to)
      throw new Error(`MODEL_SUBSTITUTES: expected name=name, got ${JSON.stringify(pair)}`);
    substitutes[requireModelName(from)] = requireModelName(to);
  }
  return substitutes;
}

/** After a failed download, a substitute stands in this long before a request tries again. */
const FAILED_DOWNLOAD_BACKOFF_MS = 5 * 60_000;
/** When the last download on behalf of a substituted model failed, by destination path. */
const failedDownloads = new Map<string, number>();

/**
 * The model a request runs, with its file in place when MODEL_AUTO_DOWNLOAD is on: a missing
 * model is downloaded and verified here, once for all concurrent requests, on the calling
 * thread (so the inference thread never stalls on a download). An operator-configured
 * substitute stands in only for a model that is missing and could not be downloaded (or with
 * downloads off), never silently: the warnings say which model ran and why, and a failed
 * download is logged with its reason. After a failure the substitute stands in for 5 minutes
 * before a request tries the download again. Without a substitute, a failed download throws its
 * error; with downloads off, a missing model fails later, when it is loaded. Both say how to
 * install it by hand.
 */
export async function chooseModel(
  requested: string | undefined,
  config: Pick<CoreConfig, 'modelsDir' | 'defaultModel' | 'modelSubstitutes'> &
    Partial<Pick<CoreConfig, 'modelBaseUrl' | 'modelAutoDownload'>>,
  logger: Logger = stderrLogger,
): Promise<{ model: ModelName; warnings: string[] }> {
  const model = await resolveModelName(requested, config);
  const substitute = config.modelSubstitutes[model];
  const { modelBaseUrl } = config;
  const download =
    config.modelAutoDownload === true && modelBaseUrl !== undefined
      ? () => ensureModelFile(model, { ...config, modelBaseUrl }, logger)
      : undefined;
  if (!substitute) {
    if (download) await download();
    return { model, warnings: [] };
  }
  if (await isModelInstalled(model, config)) return { model, warnings: [] };
  if (!download) {
    return {
      model: substitute,
      warnings: [
        `${model} is not installed on this server; ${substitute} ran instead (MODEL_SUBSTITUTES)`,
      ],
    };
  }
  const key = modelFilePath(model, config);
  const failedAt = failedDownloads.get(key);
  if (failedAt === undefined || Date.now() - failedAt >= FAILED_DOWNLOAD_BACKOFF_MS) {
    try {
      await download();
      failedDownloads.delete(key);
      return { model, warnings: [] };
    } catch (error) {
      if (!(error instanceof ModelDownloadError)) throw error;
      failedDownloads.set(key, Date.now());
      logger.warn(`${substitute} stands in for ${model} (MODEL_SUBSTITUTES): ${error.message}`, {
        model,
        substitute,
      });
    }
  }
  return {
    model: substitute,
    warnings: [
      `${model} is not installed on this server and could not be downloaded; ${substitute} ran instead (MODEL_SUBSTITUTES)`,
    ],
  };
}
