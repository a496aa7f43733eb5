import { stat } from 'node:fs/promises';
import {
  type CoreConfig,
  getModelSpec,
  isModelInstalled,
  modelFilePath,
  modelNames,
  pullModel,
  requireModelName,
} from '@bgremover/core';

/** Prints each model with whether it is installed, its size and what it is for. */
export async function listModels(config: CoreConfig, print: (line: string) => void): Promise<void> {
  print(`Models directory: ${config.modelsDir} (U2NET_HOME)`);
  print(
    config.modelAutoDownload
      ? 'A missing model is downloaded and verified when first needed (MODEL_AUTO_DOWNLOAD=true)'
      : 'Missing models are not downloaded when needed (MODEL_AUTO_DOWNLOAD=false): pull them',
  );
  for (const name of modelNames) {
    const installed = await isModelInstalled(name, config);
    const size = installed
      ? `${((await stat(modelFilePath(name, config))).size / 1e6).toFixed(1)} MB`
      : 'not installed';
    print(`  ${name.padEnd(16)} ${size.padEnd(14)} ${getModelSpec(name).description}`);
  }
}

/**
 * Downloads and verifies each named model in turn, printing progress. Returns false when any
 * failed (each failure is printed with its reason and, for a download that failed, the ways to
 * install the model by hand: `--url`, MODEL_BASE_URL, copying the file into U2NET_HOME).
 */
export async function pullModels(
  names: readonly string[],
  config: CoreConfig,
  baseUrl: string | undefined,
  print: (line: string) => void,
): Promise<boolean> {
  let allOk = true;
  for (const requested of names) {
    try {
      const name = requireModelName(requested);
      let lastPercent = -10;
      const path = await pullModel(name, config, {
        ...(baseUrl ? { baseUrl, urlOnly: true } : {}),
        onProgress: (received, total) => {
          if (!total) return;
          const percent = Math.floor((received / total) * 100);
          if (percent >= lastPercent + 10) {
            lastPercent = percent;
            print(`  ${name}: ${percent}%`);
          }
        },
      });
      print(`${name}: installed and verified at ${path}`);
    } catch (error) {
      allOk = false;
      print(`${requested}: ${(error as Error).message}`);
    }
  }
  return allOk;
}
