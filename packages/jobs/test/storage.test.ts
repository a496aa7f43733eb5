import { mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
// @ts-expect-error s3rver ships no types
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertSafeKey,
  LocalStorage,
  loadJobsConfig,
  S3Storage,
  type Storage,
  StorageNotFoundError,
  safeFileName,
  UnsafeStorageKeyError,
} from '../src/index.js';

let scratch: string;
let s3server: { close(): Promise<void> };
let s3: S3Storage;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'bgremover-storage-'));
  const server = new S3rver({
    port: 0,
    address: '127.0.0.1',
    silent: true,
    directory: join(scratch, 's3'),
    configureBuckets: [{ name: 'results' }],
  });
  const { port } = (await server.run()) as { port: number };
  s3server = server;
  s3 = new S3Storage({
    bucket: 'results',
    region: 'us-east-1',
    endpoint: `http://127.0.0.1:${port}`,
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    prefix: 'bgr/',
  });
});

afterAll(async () => {
  s3.destroy();
  await s3server.close();
  await rm(scratch, { recursive: true, force: true });
});

const drivers: [string, () => Storage][] = [
  ['local disk', () => new LocalStorage(join(scratch, 'local'))],
  ['S3 (s3rver stand-in)', () => s3],
];

describe.each(drivers)('%s storage', (_name, open) => {
  it('stores bytes, streams and files by key, with their content type', async () => {
    const storage = open();
    await storage.put('results/job-1/a.png', Buffer.from('png bytes'), 'image/png');
    await storage.put(
      'inputs/r1/0-b.txt',
      Readable.from([Buffer.from('streamed '), Buffer.from('body')]),
      'text/plain',
    );
    const localFile = join(scratch, 'source.bin');
    await writeFile(localFile, Buffer.alloc(70_000, 7));
    await storage.putFile('results/job-2/c.bin', localFile, 'application/octet-stream');

    expect(await text(await storage.read('results/job-1/a.png'))).toBe('png bytes');
    expect(await text(await storage.read('inputs/r1/0-b.txt'))).toBe('streamed body');
    const info = await storage.stat('results/job-2/c.bin');
    expect(info?.size).toBe(70_000);
    expect(info?.contentType).toBe('application/octet-stream');
    expect((await storage.stat('results/job-1/a.png'))?.contentType).toBe('image/png');

    const copy = join(scratch, `copy-${_name.length}.bin`);
    await storage.downloadToFile('results/job-2/c.bin', copy);
    expect((await readFile(copy)).equals(await readFile(localFile))).toBe(true);
  });

  it('stores nothing when a streamed body fails midway', async () => {
    const storage = open();
    const failing = Readable.from(
      (async function* () {
        yield Buffer.alloc(100_000, 1);
        throw new Error('client went away');
      })(),
    );
    await expect(storage.put('inputs/r9/0-cut.png', failing, 'image/png')).rejects.toThrow(
      'client went away',
    );
    expect(await storage.stat('inputs/r9/0-cut.png')).toBeUndefined();
    if (storage instanceof LocalStorage) {
      // Neither the staging file nor the metadata file is left behind.
      expect(await readdir(join(storage.root, 'inputs/r9'))).toEqual([]);
    }
  });

  it('reads byte ranges', async () => {
    const storage = open();
    await storage.put('results/job-3/range.txt', Buffer.from('0123456789'), 'text/plain');
    expect(await text(await storage.read('results/job-3/range.txt', { start: 2, end: 5 }))).toBe(
      '2345',
    );
  });

  it('reports a missing object clearly and deletes idempotently', async () => {
    const storage = open();
    expect(await storage.stat('results/nope/x.png')).toBeUndefined();
    await expect(storage.read('results/nope/x.png')).rejects.toBeInstanceOf(StorageNotFoundError);
    await storage.put('results/job-4/d.png', Buffer.from('x'), 'image/png');
    await storage.delete('results/job-4/d.png');
    await storage.delete('results/job-4/d.png');
    expect(await storage.stat('results/job-4/d.png')).toBeUndefined();
  });

  it('expires objects older than a cutoff under a prefix', async () => {
    const storage = open();
    await storage.put('expiry/old.png', Buffer.from('old'), 'image/png');
    await storage.put('expiry/new.png', Buffer.from('new'), 'image/png');
    if (storage instanceof LocalStorage) {
      const past = new Date(Date.now() - 3 * 3600_000);
      await utimes(join(storage.root, 'expiry/old.png'), past, past);
      expect(await storage.deleteOlderThan('expiry', new Date(Date.now() - 3600_000))).toBe(1);
      expect(await storage.stat('expiry/old.png')).toBeUndefined();
      expect(await storage.stat('expiry/new.png')).toBeDefined();
    } else {
      // S3 sets LastModified itself; a cutoff in the future expires both.
      expect(await storage.deleteOlderThan('expiry/', new Date(Date.now() + 60_000))).toBe(2);
      expect(await storage.stat('expiry/new.png')).toBeUndefined();
    }
  });

  it('refuses keys that could escape the storage root', async () => {
    const storage = open();
    await expect(storage.put('../etc/passwd', Buffer.from('x'), 'text/plain')).rejects.toThrow(
      UnsafeStorageKeyError,
    );
    await expect(storage.stat('/abs/path')).rejects.toThrow(UnsafeStorageKeyError);
  });
});

describe('keys and configuration', () => {
  it('makes any file name safe for a key', () => {
    expect(safeFileName('../../My Photo (1).JPG')).toBe('My_Photo_1.jpg');
    expect(safeFileName('C:\\Users\\x\\img.png')).toBe('img.png');
    expect(safeFileName('...')).toBe('file');
    expect(assertSafeKey('results/a-b/c.png')).toBe('results/a-b/c.png');
  });

  it('reads storage settings from the environment', () => {
    expect(loadJobsConfig({ STORAGE_DIR: '/srv/data' }).storage).toEqual({
      driver: 'local',
      dir: '/srv/data',
    });
    const s3config = loadJobsConfig({
      STORAGE_DRIVER: 's3',
      S3_BUCKET: 'b',
      S3_ENDPOINT: 'http://minio:9000',
      S3_FORCE_PATH_STYLE: 'true',
    });
    expect(s3config.storage).toMatchObject({ driver: 's3', bucket: 'b', forcePathStyle: true });
    expect(() => loadJobsConfig({ STORAGE_DRIVER: 's3' })).toThrow(/S3_BUCKET/);
    expect(() => loadJobsConfig({ STORAGE_DRIVER: 'ftp' })).toThrow(/STORAGE_DRIVER/);
  });
});

describe('local disk leftovers after a crash', () => {
  it('writes no metadata before its data, and expires staging files, orphan metadata and empty folders', async () => {
    const root = join(scratch, 'leftovers');
    const storage = new LocalStorage(root);
    await storage.put('results/job-9/a.png', Buffer.from('png'), 'image/png', {
      downloadName: 'фото_processed.png',
    });
    expect((await readdir(join(root, 'results/job-9'))).sort()).toEqual([
      'a.png',
      'a.png.meta.json',
    ]);
    expect(await storage.stat('results/job-9/a.png')).toMatchObject({
      contentType: 'image/png',
      downloadName: 'фото_processed.png',
    });
    // What a worker killed mid-write leaves: a staging file and its staging metadata, an orphan
    // metadata file from older code, and data whose metadata never arrived.
    const crashed = join(root, 'results/job-10');
    await mkdir(crashed, { recursive: true });
    await writeFile(join(crashed, 'b.mov.partial-123-abcd'), 'half');
    await writeFile(join(crashed, 'b.mov.partial-123-abcd.meta.json'), '{}');
    await writeFile(join(crashed, 'c.png.meta.json'), '{"contentType":"image/png"}');
    await writeFile(join(crashed, 'd.webm'), 'data');
    expect((await storage.stat('results/job-10/d.webm'))?.contentType).toBe('video/webm');
    const old = new Date(Date.now() - 7200_000);
    for (const name of await readdir(crashed)) await utimes(join(crashed, name), old, old);

    expect(await storage.deleteOlderThan('results', new Date(Date.now() - 3600_000))).toBe(1);
    expect(await readdir(join(root, 'results'))).toEqual(['job-9']);
    expect(await storage.stat('results/job-9/a.png')).toBeDefined();
  });
});
