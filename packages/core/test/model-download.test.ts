/**
 * Downloading a model on first use (MODEL_AUTO_DOWNLOAD): the real u2netp served over loopback
 * HTTP as MODEL_BASE_URL, into a fresh U2NET_HOME. u2net itself cannot be fetched here, so the
 * failure cases use u2net (its URL is its only source) and never fake its checksum.
 */
import { readdir, readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  BgRemoverError,
  type CoreConfig,
  chooseModel,
  closeInferenceThread,
  closeMattingWorker,
  digestFile,
  ensureModelFile,
  type Logger,
  ModelDownloadError,
  modelFilePath,
  modelRegistry,
  pullModel,
  releaseModels,
  removeImageBackground,
} from '../src/index.js';
import { decodeRaw, fixturePath, iou, realConfig, syntheticSubject, tempDir } from './helpers.js';

const U2NETP_SHA256 = '309c8469258dda742793dce0ebea8e6dd393174f89934733ecc8b14c76f4ddd8';
const installed = realConfig();

/**
 * A release-asset host on loopback. `/ok/` serves the real u2netp.onnx (404 for anything else),
 * `/slow/` the same after 300 ms, `/corrupt/` u2netp's bytes under u2net.onnx's name and a
 * one-byte-damaged u2netp.onnx, `/broken/` half a file that claims to be whole, and `/auth/`
 * like `/ok/` but only with Basic credentials user:s3cret. Every request is recorded.
 */
class AssetHost {
  readonly requests: { path: string; authorization: string | undefined }[] = [];
  url = '';
  private server: Server | undefined;

  constructor(private readonly u2netp: Buffer) {}

  async start(): Promise<void> {
    const damaged = Buffer.from(this.u2netp);
    damaged[5000] = (damaged[5000]! + 1) % 256;
    const basic = `Basic ${Buffer.from('user:s3cret').toString('base64')}`;
    this.server = createServer((request: IncomingMessage, response) => {
      const path = request.url ?? '';
      this.requests.push({ path, authorization: request.headers.authorization });
      const send = (body: Buffer) =>
        response.writeHead(200, { 'content-length': body.length }).end(body);
      if (path === '/ok/u2netp.onnx') return send(this.u2netp);
      if (path === '/slow/u2netp.onnx') {
        setTimeout(() => send(this.u2netp), 300);
        return;
      }
      if (path === '/corrupt/u2net.onnx') return send(this.u2netp);
      if (path === '/corrupt/u2netp.onnx') return send(damaged);
      if (path === '/broken/u2net.onnx') {
        response.writeHead(200, { 'content-length': this.u2netp.length });
        response.write(this.u2netp.subarray(0, this.u2netp.length / 2));
        setTimeout(() => response.destroy(), 20);
        return;
      }
      if (path.startsWith('/auth/') && request.headers.authorization !== basic) {
        response.writeHead(401).end('who are you');
        return;
      }
      if (path === '/auth/u2netp.onnx') return send(this.u2netp);
      response.writeHead(404).end('not found');
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  count(path: string): number {
    return this.requests.filter((request) => request.path === path).length;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/** A loopback URL where nothing listens (a server that was started and stopped). */
async function deadUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/models`;
}

let host: AssetHost;
let home: { path: string; cleanup: () => Promise<void> };
const logged: string[] = [];
const logger: Logger = {
  info: (message) => logged.push(`info ${message}`),
  warn: (message) => logged.push(`warn ${message}`),
};

/** Core settings for a fresh U2NET_HOME downloading from the loopback host's `folder`. */
function downloading(folder: string, overrides: Partial<CoreConfig> = {}): CoreConfig {
  return {
    ...installed,
    modelsDir: home.path,
    modelBaseUrl: `${host.url}/${folder}`,
    modelAutoDownload: true,
    modelSubstitutes: {},
    defaultModel: undefined,
    ...overrides,
  };
}

/** What is in the models folder (nothing partial may be left behind). */
async function modelsDirEntries(): Promise<string[]> {
  return (await readdir(home.path)).sort();
}

/** The manual instructions every download failure must carry. */
function expectManualSteps(message: string, name: string): void {
  expect(message).toContain(`removebg models pull ${name} --url <base URL serving ${name}.onnx>`);
  expect(message).toContain('MODEL_BASE_URL');
  expect(message).toContain(`copy ${name}.onnx (`);
  expect(message).toContain(`into ${home.path} (U2NET_HOME)`);
}

beforeAll(async () => {
  host = new AssetHost(await readFile(modelFilePath('u2netp', installed)));
  await host.start();
});
afterAll(async () => {
  await host.stop();
  await releaseModels();
  await closeInferenceThread();
  await closeMattingWorker();
});
beforeEach(async () => {
  home = await tempDir('download-home');
  host.requests.length = 0;
  logged.length = 0;
});
afterEach(() => home.cleanup());

describe('downloading a model on first use', () => {
  it('downloads and verifies a missing model once, then removes a background with it', async () => {
    const config = downloading('ok');
    const scene = await syntheticSubject();
    const result = await removeImageBackground(
      scene.png,
      { model: 'u2netp', only_mask: true },
      { config },
    );
    expect(result.model).toBe('u2netp');
    expect(result.warnings).toEqual([]);
    const mask = await decodeRaw(result.data);
    expect([mask.width, mask.height, mask.channels]).toEqual([scene.width, scene.height, 1]);
    expect(iou(mask.data, scene.truth)).toBeGreaterThanOrEqual(0.9);

    expect(await modelsDirEntries()).toEqual(['u2netp.onnx']);
    expect((await digestFile(join(home.path, 'u2netp.onnx'))).sha256).toBe(U2NETP_SHA256);
    expect(host.requests.map((request) => request.path)).toEqual(['/ok/u2netp.onnx']);

    // A photo gives the same mask as the copy setup installed: the very same weights.
    const photo = fixturePath('chelsea.png');
    const params = { model: 'u2netp', only_mask: true };
    const downloaded = await removeImageBackground(photo, params, { config });
    const reference = await removeImageBackground(photo, params, { config: installed });
    expect(Buffer.compare(downloaded.data, reference.data)).toBe(0);
    expect(host.requests).toHaveLength(1);
  });

  it('makes concurrent callers wait on one download: exactly one HTTP request', async () => {
    const config = downloading('slow', { inferenceThread: false });
    const scene = await syntheticSubject();
    const paths = await Promise.all([
      ...Array.from({ length: 6 }, () => ensureModelFile('u2netp', config, logger)),
      chooseModel('u2netp', config, logger),
      chooseModel('u2netp', config, logger),
      removeImageBackground(scene.png, { model: 'u2netp', only_mask: true }, { config }),
      removeImageBackground(scene.png, { model: 'u2netp' }, { config }),
    ]);
    expect(paths.slice(0, 6)).toEqual(Array(6).fill(join(home.path, 'u2netp.onnx')));
    expect(host.count('/slow/u2netp.onnx')).toBe(1);
    expect(host.requests).toHaveLength(1);
    expect(await modelsDirEntries()).toEqual(['u2netp.onnx']);
    expect(logged).toContain(
      'info Model u2netp is not installed; downloading it (MODEL_AUTO_DOWNLOAD)',
    );
    expect(logged).toContain('info Model u2netp downloaded and verified');
    // Installed now: later calls neither download nor log.
    logged.length = 0;
    await ensureModelFile('u2netp', config, logger);
    expect(host.requests).toHaveLength(1);
    expect(logged).toEqual([]);
  });

  it('lets processes racing to install one model leave only the whole, verified file', async () => {
    const config = downloading('ok');
    // pullModel itself is not single-flight, so this is what separate workers would do.
    await Promise.all(Array.from({ length: 4 }, () => pullModel('u2netp', config)));
    expect(host.count('/ok/u2netp.onnx')).toBe(4);
    expect(await modelsDirEntries()).toEqual(['u2netp.onnx']);
    expect((await digestFile(join(home.path, 'u2netp.onnx'))).sha256).toBe(U2NETP_SHA256);
  });

  it('with MODEL_AUTO_DOWNLOAD=false, refuses a missing model naming the setting and the manual steps', async () => {
    const config = downloading('ok', { modelAutoDownload: false });
    const scene = await syntheticSubject();
    const error = await removeImageBackground(scene.png, { model: 'u2netp' }, { config }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(BgRemoverError);
    expect(error).toMatchObject({ code: 'model_not_installed', field: 'model' });
    const { message } = error as Error;
    expect(message).toContain('Model u2netp is not installed');
    expect(message).toContain('MODEL_AUTO_DOWNLOAD=false');
    expectManualSteps(message, 'u2netp');
    expect(message).toContain(`(sha256 ${U2NETP_SHA256})`);
    expect(host.requests).toEqual([]);
    expect(await modelsDirEntries()).toEqual([]);
  });
});

describe('a download that fails', () => {
  /** The error a request for u2net gets, downloading from `baseUrl`. */
  async function requestU2net(baseUrl: string): Promise<ModelDownloadError> {
    const scene = await syntheticSubject();
    const config = { ...downloading('ok'), modelBaseUrl: baseUrl };
    const error = await removeImageBackground(scene.png, { model: 'u2net' }, { config }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ModelDownloadError);
    expect((error as Error).message).toMatch(
      /^Model u2net is not installed, and downloading it failed: /,
    );
    expectManualSteps((error as Error).message, 'u2net');
    expect(await modelsDirEntries()).toEqual([]);
    return error as ModelDownloadError;
  }

  it('when the server is down: says so, after retrying, and may pass later', async () => {
    const url = await deadUrl();
    const error = await requestU2net(url);
    expect(error.code).toBe('model_download_failed');
    expect(error.transient).toBe(true);
    expect(error.message).toContain(`${url}/u2net.onnx: fetch failed (connect ECONNREFUSED`);
  });

  it('on HTTP 404: names the URL and status; not worth retrying', async () => {
    const error = await requestU2net(`${host.url}/ok`);
    expect(error.code).toBe('model_download_failed');
    expect(error.transient).toBe(false);
    expect(error.message).toContain(`${host.url}/ok/u2net.onnx: HTTP 404 Not Found`);
    expect(host.count('/ok/u2net.onnx')).toBe(1);
  });

  it('on the wrong bytes: refuses them by checksum and installs nothing', async () => {
    const error = await requestU2net(`${host.url}/corrupt`);
    expect(error.code).toBe('model_checksum_mismatch');
    expect(error.transient).toBe(false);
    expect(error.message).toContain(
      `failed verification (md5 is 8e83ca70e441ab06c318d82300c84806, expected ${modelRegistry.u2net.checksums.md5})`,
    );
  });

  it('on a connection that breaks off: retries twice, then fails leaving nothing', async () => {
    const error = await requestU2net(`${host.url}/broken`);
    expect(error.code).toBe('model_download_failed');
    expect(error.transient).toBe(true);
    expect(error.message).toContain('the download broke off after');
    expect(host.count('/broken/u2net.onnx')).toBe(3);
  });

  it('never installs a damaged u2netp from a mirror (no fallback past a bad checksum)', async () => {
    const error = await ensureModelFile('u2netp', downloading('corrupt'), logger).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'model_checksum_mismatch' });
    expect(await modelsDirEntries()).toEqual([]);
  });

  it('is not remembered: the next request tries the download again', async () => {
    for (let attempt = 0; attempt < 2; attempt++) {
      await expect(ensureModelFile('u2net', downloading('ok'), logger)).rejects.toBeInstanceOf(
        ModelDownloadError,
      );
    }
    expect(host.count('/ok/u2net.onnx')).toBe(2);
  });

  it('in `models pull`: the same manual steps follow "fetch failed"', async () => {
    const url = await deadUrl();
    const error = await pullModel('u2net', downloading('ok'), {
      baseUrl: url,
      urlOnly: true,
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'model_download_failed' });
    const { message } = error as Error;
    expect(message).toMatch(
      /^Could not download model u2net: .*fetch failed \(connect ECONNREFUSED/,
    );
    expectManualSteps(message, 'u2net');
  });

  it('never prints the credentials or query string of MODEL_BASE_URL', async () => {
    const base = `http://user:s3cret@${host.url.slice('http://'.length)}/auth`;
    // The credentials travel as a Basic header: the download works...
    const path = await ensureModelFile('u2netp', downloading('ok', { modelBaseUrl: base }));
    expect((await digestFile(path)).sha256).toBe(U2NETP_SHA256);
    expect(host.requests.at(-1)?.authorization).toMatch(/^Basic /);
    // ...and a failure names the URL without them.
    const error = await pullModel('u2net', downloading('ok', { modelBaseUrl: base })).catch(
      (e: unknown) => e,
    );
    const { message } = error as Error;
    expect(message).toContain(`http://***@${host.url.slice('http://'.length)}/auth/u2net.onnx`);
    expect(message).not.toContain('s3cret');
  });
});

describe('MODEL_SUBSTITUTES with downloads on', () => {
  it('downloads the requested model rather than running the substitute', async () => {
    const config = downloading('ok', { modelSubstitutes: { u2netp: 'u2net' } });
    expect(await chooseModel('u2netp', config, logger)).toEqual({ model: 'u2netp', warnings: [] });
    expect(await modelsDirEntries()).toEqual(['u2netp.onnx']);
  });

  it('runs the substitute only after the download fails, saying so, and retries later', async () => {
    const config = downloading('ok', { modelSubstitutes: { u2net: 'u2netp' } });
    const expected = {
      model: 'u2netp',
      warnings: [
        'u2net is not installed on this server and could not be downloaded; u2netp ran instead (MODEL_SUBSTITUTES)',
      ],
    };
    expect(await chooseModel('u2net', config, logger)).toEqual(expected);
    const warning = logged.find((line) => line.startsWith('warn u2netp stands in for u2net'));
    expect(warning).toContain(`${host.url}/ok/u2net.onnx: HTTP 404`);
    expect(warning).toContain('removebg models pull u2net --url');
    // Within the back-off the substitute runs without asking the server again.
    expect(await chooseModel('u2net', config, logger)).toEqual(expected);
    expect(host.count('/ok/u2net.onnx')).toBe(1);
  });
});
