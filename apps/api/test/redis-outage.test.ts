import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from '@bgremover/test-kit';
import { TestRedisServer } from '@bgremover/test-kit/redis-server';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postForm, type Stack, startStack } from './api-harness.js';
import { convertHeaders, filesUnder, multipartBody, noisePng, rawRequest } from './raw-http.js';

const fixtures = fileURLToPath(new URL('../../../fixtures/images/', import.meta.url));
let redis: TestRedisServer;
let stack: Stack;
let photo: Buffer;
const image = { convert_to: 'image-backgroundremover' };

beforeAll(async () => {
  redis = await TestRedisServer.start();
  stack = await startStack({ REDIS_URL: redis.url }, false);
  photo = await sharp(`${fixtures}coffee.png`).resize(64).png().toBuffer();
});
afterAll(async () => {
  if (!redis.running) await redis.start().catch(() => undefined);
  await stack?.close().catch(() => undefined);
  await redis.kill();
});

const inputsDir = () => join(stack.storageDir, 'inputs');
const redisDown = async () => stack.api.context.redis.status !== 'ready';
const redisUp = async () =>
  stack.api.context.redis.status === 'ready' &&
  (await stack.api.context.queue.getJobCounts().then(
    () => true,
    () => false,
  ));

describe('while Redis is unreachable', () => {
  it('a request accepted before the outage and an upload staged during it: 503, nothing left', async () => {
    const accepted = await postForm(`${stack.baseUrl}/v1/convert/`, image, [
      ['files', 'a.png', photo],
    ]);
    expect(accepted.status).toBe(200);
    const uuid = String(accepted.body.uuid);

    // An upload under way (its file partly staged) when Redis goes away.
    const boundary = 'outageBoundary';
    const body = multipartBody(boundary, [
      {
        headers: 'Content-Disposition: form-data; name="convert_to"',
        body: 'image-backgroundremover',
      },
      {
        headers: 'Content-Disposition: form-data; name="files"; filename="big.png"',
        body: await noisePng(300 * 1024),
      },
    ]);
    const { response, socket } = rawRequest(
      stack.baseUrl,
      { path: '/v1/convert/', headers: convertHeaders(boundary, body.length) },
      body.subarray(0, 150 * 1024),
    );
    await waitFor(async () =>
      (await filesUnder(inputsDir())).some((name) => name.includes('.partial-')),
    );
    await redis.kill();
    await waitFor(redisDown);
    socket.write(body.subarray(150 * 1024));
    const staged = await response;
    expect(staged.status).toBe(503);
    expect(staged.headers['retry-after']).toBe('5');
    expect(JSON.parse(staged.body).error).toContain('the job queue (Redis) is unavailable');
    // Only the files of the request accepted before the outage are left (no worker runs).
    const others = async () =>
      (await filesUnder(inputsDir())).filter((name) => !name.startsWith(`${uuid}/`));
    expect(await others()).toEqual([]);

    const convert = await postForm(`${stack.baseUrl}/v1/convert/`, image, [
      ['files', 'b.png', photo],
    ]);
    expect(convert.status).toBe(503);
    expect(convert.headers.get('retry-after')).toBe('5');
    expect(convert.body.error).toContain('the job queue (Redis) is unavailable');
    expect(await others()).toEqual([]);

    for (const request of [
      fetch(`${stack.baseUrl}/v1/results/?uuid=${uuid}`),
      fetch(`${stack.baseUrl}/v1/results/`, {
        method: 'POST',
        body: new URLSearchParams({ uuid }),
      }),
    ]) {
      const results = await request;
      expect(results.status).toBe(503);
      expect(results.headers.get('retry-after')).toBe('5');
      expect(((await results.json()) as { error: string }).error).toContain(
        'the job queue (Redis) is unavailable',
      );
    }
  });

  it('once Redis is back, requests succeed again', async () => {
    await redis.start();
    await waitFor(redisUp);
    const convert = await postForm(`${stack.baseUrl}/v1/convert/`, image, [
      ['files', 'c.png', photo],
    ]);
    expect(convert.status).toBe(200);
    const results = await fetch(`${stack.baseUrl}/v1/results/?uuid=${String(convert.body.uuid)}`);
    expect(results.status).toBe(200);
  });
});
