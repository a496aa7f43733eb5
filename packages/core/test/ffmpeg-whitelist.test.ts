import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { type FileHandle, open, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BgRemoverError, probeVideo } from '../src/index.js';
import { startFfmpeg } from '../src/video/ffmpeg.js';
import { tempDir } from './helpers.js';

const run = promisify(execFile);
let dir: { path: string; cleanup: () => Promise<void> };
let server: Server;
let requests: string[];
let origin: string;

beforeAll(async () => {
  dir = await tempDir('ffmpeg-whitelist');
  requests = [];
  server = createServer((request, response) => {
    requests.push(request.url ?? '');
    response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await dir.cleanup();
});

function playlist(segment: string): string {
  return `#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1.0,\n${segment}\n#EXT-X-ENDLIST\n`;
}

/**
 * A FIFO that tells whether anything opened it for reading: our writer's `open` only completes
 * when a reader opens the other end. `release` unblocks the writer afterwards.
 */
async function watchedFifo(name: string) {
  const path = join(dir.path, name);
  await run('mkfifo', [path]);
  let opened = false;
  const writer = open(path, 'w').then((handle) => {
    opened = true;
    return handle;
  });
  return {
    path,
    wasOpened: () => opened,
    async release() {
      // Open the read end ourselves (without blocking), so the pending writer open completes.
      const reader = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
      const handle: FileHandle = await writer;
      await handle.close();
      await reader.close();
    },
  };
}

describe('ffmpeg input whitelists', () => {
  it('refuses an HLS playlist that references a local file, without reading the file', async () => {
    const segment = await watchedFifo('segment.ts');
    const list = join(dir.path, 'local.m3u8');
    await writeFile(list, playlist(`file://${segment.path}`));
    try {
      const error = await probeVideo(list, 1e8).catch((caught: Error) => caught);
      expect(error).toBeInstanceOf(BgRemoverError);
      expect((error as Error).message).toMatch(/not a video/);

      const job = startFfmpeg({
        inputs: [{ source: list }],
        outputOptions: ['-f', 'null'],
        output: '/dev/null',
      });
      await expect(job.done).rejects.toThrow(/not on whitelist|Invalid argument/);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(segment.wasOpened()).toBe(false);
    } finally {
      await segment.release();
    }
  });

  it('refuses an HLS playlist that references a URL, without requesting it', async () => {
    const list = join(dir.path, 'remote.m3u8');
    await writeFile(list, playlist(`${origin}/segment.ts`));
    const error = await probeVideo(list, 1e8).catch((caught: Error) => caught);
    expect(error).toBeInstanceOf(BgRemoverError);
    const job = startFfmpeg({
      inputs: [{ source: list }],
      outputOptions: ['-f', 'null'],
      output: '/dev/null',
    });
    await expect(job.done).rejects.toThrow();
    expect(requests).toEqual([]);
  });

  it('(control) plain ffprobe does read the file a playlist references', async () => {
    const segment = await watchedFifo('control.ts');
    const list = join(dir.path, 'control.m3u8');
    await writeFile(list, playlist(`file://${segment.path}`));
    const probe = run('ffprobe', ['-v', 'error', '-show_format', list], { timeout: 10_000 }).catch(
      () => undefined,
    );
    const deadline = Date.now() + 5000;
    while (!segment.wasOpened() && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(segment.wasOpened()).toBe(true);
    await segment.release(); // ffprobe sees end of file and finishes
    await probe;
  });
});
