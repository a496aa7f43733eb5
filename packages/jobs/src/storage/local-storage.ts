import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  assertSafeKey,
  type ByteRange,
  type PutOptions,
  type Storage,
  StorageNotFoundError,
  type StoredObjectInfo,
} from './storage.js';

const META_SUFFIX = '.meta.json';

/** What the `.meta.json` file beside each object holds. */
interface StoredMetadata {
  contentType?: string;
  downloadName?: string;
}

function metadataOf(contentType: string, options: PutOptions): string {
  const meta: StoredMetadata = { contentType, ...options };
  return JSON.stringify(meta);
}

/**
 * How much of a streamed upload may wait in memory for the disk. With the default 16 KB the
 * source pauses after every network chunk until its write finishes; 1 MB lets chunks arriving
 * during a write join the next one (a single writev), so a slow write does not stall the upload.
 */
const WRITE_BUFFER_BYTES = 1024 * 1024;

/**
 * Storage in a local folder: each object is a file at `<root>/<key>`, with its content type in
 * a `<key>.meta.json` beside it. Writes go to a temporary name and are renamed into place, so a
 * reader never sees half a file.
 */
export class LocalStorage implements Storage {
  constructor(readonly root: string) {}

  private pathOf(key: string): string {
    return join(this.root, assertSafeKey(key));
  }

  async put(
    key: string,
    body: Buffer | Readable,
    contentType: string,
    options: PutOptions = {},
  ): Promise<void> {
    const path = this.pathOf(key);
    await mkdir(dirname(path), { recursive: true });
    const staging = `${path}.partial-${process.pid}-${Date.now()}`;
    try {
      // The data and its small metadata file are written side by side; the object appears only
      // at the rename, so a reader never sees one without the other.
      const written = await Promise.allSettled([
        Buffer.isBuffer(body)
          ? writeFile(staging, body)
          : pipeline(body, createWriteStream(staging, { highWaterMark: WRITE_BUFFER_BYTES })),
        writeFile(`${path}${META_SUFFIX}`, metadataOf(contentType, options)),
      ]);
      for (const outcome of written) if (outcome.status === 'rejected') throw outcome.reason;
      await rename(staging, path);
    } catch (error) {
      await rm(staging, { force: true });
      // A metadata file with no object beside it would never be cleaned up.
      if (!(await stat(path).catch(() => undefined)))
        await rm(`${path}${META_SUFFIX}`, { force: true });
      throw error;
    }
  }

  async putFile(
    key: string,
    source: string,
    contentType: string,
    options: PutOptions = {},
  ): Promise<void> {
    const path = this.pathOf(key);
    await mkdir(dirname(path), { recursive: true });
    const staging = `${path}.partial-${process.pid}-${Date.now()}`;
    await copyFile(source, staging);
    await writeFile(`${path}${META_SUFFIX}`, metadataOf(contentType, options));
    await rename(staging, path);
  }

  async read(key: string, range?: ByteRange): Promise<Readable> {
    const path = this.pathOf(key);
    if (!(await this.stat(key))) throw new StorageNotFoundError(key);
    return createReadStream(path, range ? { start: range.start, end: range.end } : {});
  }

  async downloadToFile(key: string, target: string): Promise<void> {
    await pipeline(await this.read(key), createWriteStream(target));
  }

  async stat(key: string): Promise<StoredObjectInfo | undefined> {
    const path = this.pathOf(key);
    const info = await stat(path).catch(() => undefined);
    if (!info?.isFile()) return undefined;
    const meta = await readFile(`${path}${META_SUFFIX}`, 'utf8')
      .then((text) => JSON.parse(text) as StoredMetadata)
      .catch((): StoredMetadata => ({}));
    return {
      size: info.size,
      contentType: meta.contentType ?? 'application/octet-stream',
      lastModified: info.mtime,
      ...(typeof meta.downloadName === 'string' ? { downloadName: meta.downloadName } : {}),
    };
  }

  async delete(key: string): Promise<void> {
    const path = this.pathOf(key);
    await rm(path, { force: true });
    await rm(`${path}${META_SUFFIX}`, { force: true });
  }

  async deleteOlderThan(prefix: string, cutoff: Date): Promise<number> {
    const folder = join(this.root, prefix);
    const entries = await readdir(folder, { recursive: true, withFileTypes: true }).catch(() => []);
    let removed = 0;
    for (const entry of entries) {
      if (!entry.isFile() || entry.name.endsWith(META_SUFFIX) || entry.name.includes('.partial-')) {
        continue;
      }
      const path = join(entry.parentPath, entry.name);
      const info = await stat(path).catch(() => undefined);
      if (info && info.mtime < cutoff) {
        await this.delete(relative(this.root, path));
        removed++;
      }
    }
    return removed;
  }
}
