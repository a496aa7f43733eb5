/**
 * Redis killed (SIGKILL) and restarted from its append-only file under a running batch, with the
 * API and a worker in this process: every request that was accepted finishes with all its files,
 * every request refused during the outage leaves nothing behind, and afterwards the key's
 * in-flight count is back to zero (no leaked record, entry or upload).
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from '@bgremover/test-kit';
import { TestRedisServer } from '@bgremover/test-kit/redis-server';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postForm, type Stack, startStack, waitForResults } from './api-harness.js';
import { filesUnder } from './raw-http.js';

const fixtures = fileURLToPath(new URL('../../../fixtures/images/', import.meta.url));
let dataDir: string;
let redis: TestRedisServer;
let stack: Stack;
let photo: Buffer;
const image = { convert_to: 'image-backgroundremover', model: 'u2netp' };

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'bgremover-redis-fault-'));
  // Every write goes to its append-only file, so a restart after SIGKILL brings the state back.
  redis = await TestRedisServer.start({ dataDir });
  stack = await startStack({
    REDIS_URL: redis.url,
    WORKER_LOCK_MS: '3000',
    WORKER_STALLED_INTERVAL_MS: '1000',
  });
  photo = await sharp(`${fixtures}coffee.png`).resize(96).png().toBuffer();
});
afterAll(async () => {
  if (!redis.running) await redis.start().catch(() => undefined);
  await stack?.close().catch(() => undefined);
  await redis.kill();
  await rm(dataDir, { recursive: true, force: true });
});

describe('Redis killed and restarted under a running batch', () => {
  it('finishes every accepted request once, and leaks no record, in-flight entry or upload', async () => {
    const convert = () =>
      postForm(`${stack.baseUrl}/v1/convert/`, image, [
        ['files', 'a.png', photo],
        ['files', 'b.png', photo],
      ]);
    const accepted: string[] = [];
    for (let round = 0; round < 3; round++) {
      const answer = await convert();
      expect(answer.status).toBe(200);
      accepted.push(String(answer.body.uuid));
    }

    await redis.kill();
    // Requests during the outage are refused, and leave nothing.
    for (let round = 0; round < 2; round++) {
      const answer = await convert();
      expect(answer.status).toBe(503);
    }
    await redis.start();
    await waitFor(async () => stack.api.context.redis.status === 'ready');

    // One more after the restart, while the batch is still running, retried as a client does on
    // 503 (the queue's own connection may come back a moment after the API's): a 503 on the way
    // is an admission that was undone, and must leave nothing either.
    let after = await convert();
    for (let attempt = 0; after.status === 503 && attempt < 40; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      after = await convert();
    }
    expect(after.status).toBe(200);
    accepted.push(String(after.body.uuid));

    for (const uuid of accepted) {
      const results = await waitForResults(stack.baseUrl, uuid, 180_000);
      expect(results.failed, uuid).toEqual([]);
      expect((results.files as unknown[]).length, uuid).toBe(2);
    }
    const keyId = (stack.env.API_KEYS ?? '').split('=')[0] ?? '';
    expect(await stack.api.context.requests.inflight(keyId)).toBe(0);
    // Uploads (files, and the folders that held them) exist only for accepted requests.
    const uploads = await filesUnder(join(stack.storageDir, 'inputs'));
    expect(uploads.filter((path) => !accepted.includes(path.split('/')[0] ?? ''))).toEqual([]);
    const uploadFolders = await readdir(join(stack.storageDir, 'inputs')).catch(() => []);
    expect(uploadFolders.filter((folder) => !accepted.includes(folder))).toEqual([]);
  });
});
