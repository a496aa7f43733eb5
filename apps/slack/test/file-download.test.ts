import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalStorage } from '@bgremover/jobs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DownloadRefusedError, downloadIntoStorage, slackInputKey } from '../src/file-download.js';

const TOKEN = 'xoxb-download-test';
let server: Server;
let origin = '';
let dir = '';
let storage: LocalStorage;
const seenAuth: (string | undefined)[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bgremover-slack-download-'));
  storage = new LocalStorage(dir);
  server = createServer((request, response) => {
    seenAuth.push(request.headers.authorization);
    const path = request.url ?? '/';
    if (path === '/photo.png') {
      response.writeHead(200, { 'content-type': 'image/png', 'content-length': '4' });
      response.end(Buffer.from([1, 2, 3, 4]));
    } else if (path === '/declared-big') {
      response.writeHead(200, { 'content-type': 'image/png', 'content-length': '5000' });
      response.end(Buffer.alloc(5000));
    } else if (path === '/streamed-big') {
      // No content-length: the cap must stop the stream itself.
      response.writeHead(200, { 'content-type': 'video/mp4' });
      for (let i = 0; i < 10; i++) response.write(Buffer.alloc(1000));
      response.end();
    } else if (path === '/elsewhere') {
      response.writeHead(302, { location: 'http://evil.example/steal' });
      response.end();
    } else if (path === '/slow') {
      response.writeHead(200, { 'content-type': 'image/png' });
      response.write(Buffer.alloc(10));
    } else {
      response.writeHead(404);
      response.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

const options = { token: TOKEN, fileHosts: ['127.0.0.1'], maxBytes: 2048, timeoutMs: 2000 };

/** The files left in storage (empty folders do not count). */
async function storedFiles(): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => entry.name);
}

describe('downloading a Slack file into storage', () => {
  it('streams it with the bot token under an inputs/slack-… key', async () => {
    const key = slackInputKey('trigger.1', 0, 'my photo.png');
    expect(key).toMatch(/^inputs\/slack-[0-9a-f]{24}\/0-my_photo\.png$/);
    await downloadIntoStorage(`${origin}/photo.png`, 'my photo.png', key, storage, options);
    expect((await storage.stat(key))?.size).toBe(4);
    expect(seenAuth.at(-1)).toBe(`Bearer ${TOKEN}`);
    await storage.delete(key);
  });

  it('stops at the size limit, whether the size is declared or not, and keeps nothing', async () => {
    for (const path of ['/declared-big', '/streamed-big']) {
      const attempt = downloadIntoStorage(
        `${origin}${path}`,
        'big',
        'inputs/slack-t/0-big',
        storage,
        options,
      );
      await expect(attempt).rejects.toThrow(DownloadRefusedError);
      await expect(attempt).rejects.toThrow(/big is larger than the 2\.0 KB limit/);
    }
    expect(await storedFiles()).toEqual([]);
  });

  it('never follows a redirect to a host it may not send the token to', async () => {
    const before = seenAuth.length;
    await expect(
      downloadIntoStorage(
        `${origin}/elsewhere`,
        'x.png',
        'inputs/slack-t/0-x.png',
        storage,
        options,
      ),
    ).rejects.toThrow(
      /x\.png is stored on evil\.example, and I only fetch files from 127\.0\.0\.1/,
    );
    expect(seenAuth.length).toBe(before + 1);
  });

  it('gives up on a download that takes too long', async () => {
    await expect(
      downloadIntoStorage(`${origin}/slow`, 'slow.png', 'inputs/slack-t/0-slow.png', storage, {
        ...options,
        timeoutMs: 300,
      }),
    ).rejects.toThrow(/took too long/);
    expect(await storedFiles()).toEqual([]);
  });
});
