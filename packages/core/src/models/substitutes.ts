import type { CoreConfig } from '../config.js';
import { isModelInstalled, requireModelName, resolveModelName } from './provision.js';
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

/**
 * The model a request runs, with a warning when an operator-configured substitute stands in for
 * a model that is not installed (never silently: the result says which model ran and why).
 * Without a substitute, a missing model fails later with instructions to install it.
 */
export async function chooseModel(
  requested: string | undefined,
  config: Pick<CoreConfig, 'modelsDir' | 'defaultModel' | 'modelSubstitutes'>,
): Promise<{ model: ModelName; warnings: string[] }> {
  const model = await resolveModelName(requested, config);
  const substitute = config.modelSubstitutes[model];
  if (!substitute || (await isModelInstalled(model, config))) return { model, warnings: [] };
  return {
    model: substitute,
    warnings: [
      `${model} is not installed on this server; ${substitute} ran instead (MODEL_SUBSTITUTES)`,
    ],
  };
}
