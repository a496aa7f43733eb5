import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { waitFor } from '@bgremover/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, spawnApi, stackEnv, startStack } from './api-harness.js';
import { convertHeaders, filesUnder, multipartBody, noisePng, rawRequest } from './raw-http.js';

let stack: Stack;
let big: Buffer;
const boundary = 'xTestBoundary42';

beforeAll(async () => {
  stack = await startStack({ UPLOAD_IDLE_TIMEOUT_MS: '1000', UPLOAD_TIMEOUT_MS: '4000' }, false);
  big = await noisePng(400 * 1024);
});
afterAll(() => stack.close());

const inputsDir = () => join(stack.storageDir, 'inputs');
const hasPartial = async () =>
  (await filesUnder(inputsDir())).some((name) => name.includes('.partial-'));

/** A convert request for one big PNG, of which only the first `sent` bytes are written. */
function stalledUpload(baseUrl: string, sent: number) {
  const body = multipartBody(boundary, [
    {
      headers: 'Content-Disposition: form-data; name="convert_to"',
      body: 'image-backgroundremover',
    },
    {
      headers:
        'Content-Disposition: form-data; name="files"; filename="big.png"\r\nContent-Type: image/png',
      body: big,
    },
  ]);
  return {
    ...rawRequest(
      baseUrl,
      { path: '/v1/convert/', headers: convertHeaders(boundary, body.length) },
      body.subarray(0, sent),
    ),
    body,
  };
}

describe('uploads that stall or run too long are cut, with nothing left staged', () => {
  it('half a body, then nothing: 408 naming the idle limit, and the .partial file is gone', async () => {
    const { response } = stalledUpload(stack.baseUrl, 200 * 1024);
    // The file was being written when the client stalled...
    await waitFor(hasPartial);
    const answer = await response;
    expect(answer.status).toBe(408);
    expect(JSON.parse(answer.body).error).toMatch(/stalled.*UPLOAD_IDLE_TIMEOUT_MS/);
    // ...and nothing of it is left.
    await waitFor(async () => (await filesUnder(inputsDir())).length === 0);
    expect(await filesUnder(inputsDir())).toEqual([]);
  });

  it('a body trickling in past the total limit: 408 naming UPLOAD_TIMEOUT_MS, nothing left', async () => {
    const { response, socket, body } = stalledUpload(stack.baseUrl, 100 * 1024);
    let offset = 100 * 1024;
    const trickle = setInterval(() => {
      if (socket.destroyed || offset >= body.length - 10) return;
      socket.write(body.subarray(offset, offset + 100));
      offset += 100;
    }, 200);
    try {
      const answer = await response;
      expect(answer.status).toBe(408);
      expect(JSON.parse(answer.body).error).toMatch(/took longer.*UPLOAD_TIMEOUT_MS/);
    } finally {
      clearInterval(trickle);
    }
    await waitFor(async () => (await filesUnder(inputsDir())).length === 0);
  });
});

describe('a /v1/results/ form that stalls', () => {
  it('is cut with 408 naming the idle limit', async () => {
    const body = multipartBody(boundary, [
      { headers: 'Content-Disposition: form-data; name="uuid"', body: 'x'.repeat(100) },
    ]);
    const { response } = rawRequest(
      stack.baseUrl,
      {
        path: '/v1/results/',
        headers: {
          'content-type': `multipart/form-data; boundary=${boundary}`,
          'content-length': String(body.length),
        },
      },
      body.subarray(0, 60),
    );
    const answer = await response;
    expect(answer.status).toBe(408);
    expect(JSON.parse(answer.body).error).toContain('UPLOAD_IDLE_TIMEOUT_MS');
  });
});

describe('a file part whose filename holds a raw CR or LF is refused, not skipped or hung', () => {
  const send = (filename: string, bytes: Buffer) => {
    const body = multipartBody(boundary, [
      {
        headers: 'Content-Disposition: form-data; name="convert_to"',
        body: 'image-backgroundremover',
      },
      {
        headers: `Content-Disposition: form-data; name="files"; filename="${filename}"\r\nContent-Type: image/png`,
        body: bytes,
      },
    ]);
    return rawRequest(
      stack.baseUrl,
      { path: '/v1/convert/', headers: convertHeaders(boundary, body.length) },
      body,
    ).response;
  };

  for (const [what, name] of [
    ['CRLF', 'a\r\nb.png'],
    ['bare LF', 'a\nb.png'],
    ['bare CR', 'a\rb.png'],
  ] as const) {
    for (const size of [1024, 30 * 1024]) {
      it(`${what} in the filename, ${size / 1024} KB part: 400 naming the problem`, async () => {
        const answer = await send(name, big.subarray(0, size));
        expect(answer.status).toBe(400);
        expect(JSON.parse(answer.body).error).toContain(
          'The file part in field "files" has a filename holding a raw line break (CR or LF)',
        );
        expect(await filesUnder(inputsDir())).toEqual([]);
      });
    }
  }
});

describe('shutdown with an upload still open', () => {
  it('completes after SHUTDOWN_GRACE_MS: the upload is cut with 503 and its staging removed', async () => {
    const own = await startStack(
      { UPLOAD_IDLE_TIMEOUT_MS: '600000', SHUTDOWN_GRACE_MS: '300' },
      false,
    );
    const ownInputs = join(own.storageDir, 'inputs');
    const { response } = stalledUpload(own.baseUrl, 200 * 1024);
    await waitFor(async () =>
      (await filesUnder(ownInputs)).some((name) => name.includes('.partial-')),
    );
    // Without the grace period this never resolves (the test's timeout fails it).
    await own.api.close();
    const answer = await response;
    expect(answer.status).toBe(503);
    expect(JSON.parse(answer.body).error).toContain('shutting down');
    expect(await filesUnder(ownInputs)).toEqual([]);
    await own.close().catch(() => undefined);
  }, 20_000);
});

describe('SIGTERM with an upload still open', () => {
  it('the process exits after SHUTDOWN_GRACE_MS, the upload cut and its staging removed', async () => {
    const env = await stackEnv({
      UPLOAD_IDLE_TIMEOUT_MS: '600000',
      SHUTDOWN_GRACE_MS: '300',
      LOG_LEVEL: 'info',
    });
    const storageDir = env.STORAGE_DIR ?? '';
    const { child, address } = spawnApi(env, { stderr: 'inherit', timeoutMs: 20_000 });
    try {
      // Rejecting (rather than hanging) lets `finally` end the child.
      const baseUrl = await address;
      const { response } = stalledUpload(baseUrl, 200 * 1024);
      await waitFor(async () =>
        (await filesUnder(join(storageDir, 'inputs'))).some((name) => name.includes('.partial-')),
      );
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      // Without the grace period the process never exits (the test's timeout fails it).
      expect(await exited).toBe(0);
      expect((await response).status).toBe(503);
      expect(await filesUnder(join(storageDir, 'inputs'))).toEqual([]);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await rm(storageDir, { recursive: true, force: true });
    }
  }, 30_000);
});
