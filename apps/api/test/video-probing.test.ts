/**
 * Videos are probed at the API whatever the storage, from a local copy made as the upload
 * streams to storage: a shorter video gets a better queue priority than a longer one, a video
 * over the limits is refused before any job exists, and no copy is left behind (not even by an
 * upload cut short), on local storage and on S3 (s3rver stands in) alike.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { waitFor } from '@bgremover/test-kit';
// @ts-expect-error s3rver ships no types
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postForm, type Stack, startStack } from './api-harness.js';
import { convertHeaders, filesUnder, multipartBody, rawRequest } from './raw-http.js';

const run = promisify(execFile);
let dir: string;
let s3: { close(): Promise<void> } | undefined;
let s3Endpoint = '';
const stacks: Stack[] = [];

/** An H.264 MP4 of `seconds` seconds of a test pattern, `size` pixels (WxH), noisy if asked. */
async function clip(seconds: number, size = '32x32', noisy = false): Promise<Buffer> {
  const output = join(dir, `clip-${seconds}s-${size}.mp4`);
  const noise = noisy ? ',noise=alls=100:allf=t' : '';
  await run('ffmpeg', [
    ...['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi'],
    ...['-i', `testsrc=s=${size}:r=5:d=${seconds}${noise}`],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', output],
  ]);
  return readFile(output);
}

/** The probe copies in the temp folder (this test file's own: TMPDIR is set below). */
const probeCopies = async () =>
  (await filesUnder(dir)).filter((name) => name.includes('bgremover-probe-'));

beforeAll(async () => {
  // Files run in processes of their own: this folder is where this one's os.tmpdir() points.
  dir = await mkdtemp(join(tmpdir(), 'bgremover-api-probing-'));
  process.env.TMPDIR = dir;
  const server = new S3rver({
    port: 0,
    address: '127.0.0.1',
    silent: true,
    directory: join(dir, 's3'),
    configureBuckets: [{ name: 'uploads' }],
  });
  const { port } = (await server.run()) as { port: number };
  s3 = server;
  s3Endpoint = `http://127.0.0.1:${port}`;
});
afterAll(async () => {
  for (const stack of stacks) await stack.close().catch(() => undefined);
  await s3?.close();
  await rm(dir, { recursive: true, force: true });
});

const storages: [string, () => NodeJS.ProcessEnv][] = [
  ['local', () => ({})],
  [
    'S3 (s3rver stand-in)',
    () => ({
      STORAGE_DRIVER: 's3',
      S3_BUCKET: 'uploads',
      S3_ENDPOINT: s3Endpoint,
      S3_FORCE_PATH_STYLE: 'true',
      S3_ACCESS_KEY_ID: 'S3RVER',
      S3_SECRET_ACCESS_KEY: 'S3RVER',
      S3_PREFIX: 'bgr/',
    }),
  ],
];

describe.each(storages)('video probing at the API with %s storage', (_name, storageEnv) => {
  let stack: Stack;
  beforeAll(async () => {
    // No worker: the jobs stay queued with the priority the API gave them.
    stack = await startStack(
      { ...storageEnv(), MAX_VIDEO_SECONDS: '60', UPLOAD_IDLE_TIMEOUT_MS: '1000' },
      false,
    );
    stacks.push(stack);
  });
  const convert = async (name: string, bytes: Buffer) =>
    postForm(`${stack.baseUrl}/v1/convert/`, { convert_to: 'video-backgroundremover' }, [
      ['files', name, bytes],
    ]);
  const priorityOf = async (uuid: unknown) => {
    const job = await stack.api.context.queue.getJob(`${String(uuid)}-0`);
    return job?.opts.priority;
  };

  it('gives a long video a lower priority than a short one, and refuses one over the limit', async () => {
    const short = await convert('short.mp4', await clip(2));
    const long = await convert('long.mp4', await clip(40));
    expect(short.status).toBe(200);
    expect(long.status).toBe(200);
    const [shortPriority, longPriority] = [
      await priorityOf(short.body.uuid),
      await priorityOf(long.body.uuid),
    ];
    // 10 + the duration in whole seconds (conversionPriority); 70 would mean "not probed".
    expect(shortPriority).toBe(12);
    expect(longPriority).toBe(50);

    const tooLong = await convert('too-long.mp4', await clip(90));
    expect(tooLong.status).toBe(413);
    expect(tooLong.body.error).toMatch(/^too-long\.mp4: .*MAX_VIDEO_SECONDS/);
    const counts = await stack.api.context.queue.getJobCounts('waiting', 'prioritized', 'delayed');
    expect(Object.values(counts).reduce((sum, count) => sum + count, 0)).toBe(2);
    expect(await probeCopies()).toEqual([]);
  });

  it('removes the probe copy of an upload cut short', async () => {
    const video = await clip(4, '320x240', true);
    expect(video.length).toBeGreaterThan(200 * 1024);
    const boundary = 'xProbeBoundary7';
    const body = multipartBody(boundary, [
      {
        headers: 'Content-Disposition: form-data; name="convert_to"',
        body: 'video-backgroundremover',
      },
      {
        headers:
          'Content-Disposition: form-data; name="files"; filename="cut.mp4"\r\nContent-Type: video/mp4',
        body: video,
      },
    ]);
    const { response } = rawRequest(
      stack.baseUrl,
      { path: '/v1/convert/', headers: convertHeaders(boundary, body.length) },
      body.subarray(0, 150 * 1024),
    );
    // The copy was being written when the client stalled...
    await waitFor(async () => (await probeCopies()).length > 0, { what: 'a probe copy' });
    const answer = await response;
    expect(answer.status).toBe(408);
    // ...and it is gone with the staged upload.
    await waitFor(async () => (await probeCopies()).length === 0, { what: 'no probe copy' });
  });
});
