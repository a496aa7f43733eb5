import { randomBytes } from 'node:crypto';
import { constants, createReadStream, createWriteStream } from 'node:fs';
import {
  access,
  copyFile,
  mkdir,
  readdir,
  readFile,
  rename,
  rm,
  rmdir,
  stat,
  writeFile,
} from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ByteRange, PutOptions, Storage, StoredObjectInfo } from './storage.js';
import { assertSafeKey, StorageNotFoundError } from './storage.js';

const META_SUFFIX = '.meta.json';
/** Marks a staging name: `<object>.partial-<pid>-<random>` (and its `.meta.json`). */
const PARTIAL_MARK = '.partial-';

/** Content types by extension, for an object whose metadata file is missing. */
const TYPES_BY_EXTENSION: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  gif: 'image/gif',
  mov: 'video/quicktime',
  mp4: 'video/mp4',
  webm: 'video/webm',
};

function contentTypeOfName(path: string): string {
  const extension = /\.([a-z0-9]+)$/i.exec(path)?.[1]?.toLowerCase() ?? '';
  return TYPES_BY_EXTENSION[extension] ?? 'application/octet-stream';
}

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
    await this.commit(key, contentType, options, (staging) =>
      Buffer.isBuffer(body)
        ? writeFile(staging, body)
        : pipeline(body, createWriteStream(staging, { highWaterMark: WRITE_BUFFER_BYTES })),
    );
  }

  async putFile(
    key: string,
    source: string,
    contentType: string,
    options: PutOptions = {},
  ): Promise<void> {
    await this.commit(key, contentType, options, (staging) => copyFile(source, staging));
  }

  /**
   * Creates a folder for an object. A recursive mkdir on a read-only volume reports ENOENT; the
   * storage root's own write check then says what is really wrong (EROFS, EACCES).
   */
  private async makeFolder(folder: string): Promise<void> {
    try {
      await mkdir(folder, { recursive: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        await access(this.root, constants.W_OK);
      }
      throw error;
    }
  }

  /**
   * Writes an object and its metadata under staging names (`.partial-<pid>-<random>`), then
   * renames the data into place first and the metadata after it, so a crash can leave a staging
   * file (expired by `deleteOlderThan`) or data without metadata (its type then comes from its
   * extension), never metadata without data.
   */
  private async commit(
    key: string,
    contentType: string,
    options: PutOptions,
    writeData: (staging: string) => Promise<unknown>,
  ): Promise<void> {
    const path = this.pathOf(key);
    await this.makeFolder(dirname(path));
    const staging = `${path}${PARTIAL_MARK}${process.pid}-${randomBytes(4).toString('hex')}`;
    const metaStaging = `${staging}${META_SUFFIX}`;
    try {
      const written = await Promise.allSettled([
        writeData(staging),
        writeFile(metaStaging, metadataOf(contentType, options)),
      ]);
      for (const outcome of written) if (outcome.status === 'rejected') throw outcome.reason;
      await rename(staging, path);
      await rename(metaStaging, `${path}${META_SUFFIX}`);
    } catch (error) {
      await rm(staging, { force: true });
      await rm(metaStaging, { force: true });
      throw error;
    }
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
      contentType: meta.contentType ?? contentTypeOfName(path),
      lastModified: info.mtime,
      ...(typeof meta.downloadName === 'string' ? { downloadName: meta.downloadName } : {}),
    };
  }

  async delete(key: string): Promise<void> {
    const path = this.pathOf(key);
    await rm(path, { force: true });
    await rm(`${path}${META_SUFFIX}`, { force: true });
    // The object's folder (`inputs/<request>/`, `results/<job>/`) goes with its last object;
    // rmdir refuses a folder that still holds anything.
    if (dirname(path) !== this.root) await rmdir(dirname(path)).catch(() => undefined);
  }

  /**
   * Removes objects last modified before `cutoff`, and what a crash can leave behind that is as
   * old: staging files (`.partial-*`), metadata files whose object is gone, and the folders they
   * emptied. Returns how many objects (not leftovers) were removed.
   */
  async deleteOlderThan(prefix: string, cutoff: Date): Promise<number> {
    const folder = join(this.root, prefix);
    const entries = await readdir(folder, { recursive: true, withFileTypes: true }).catch(() => []);
    let removed = 0;
    const touchedFolders = new Set<string>();
    for (const entry of entries) {
      if (!entry.isFile()) continue;
      const path = join(entry.parentPath, entry.name);
      const info = await stat(path).catch(() => undefined);
      if (!info || info.mtime >= cutoff) continue;
      if (entry.name.includes(PARTIAL_MARK)) {
        await rm(path, { force: true });
      } else if (entry.name.endsWith(META_SUFFIX)) {
        const object = path.slice(0, -META_SUFFIX.length);
        if (await stat(object).catch(() => undefined)) continue; // removed with its object
        await rm(path, { force: true });
      } else {
        await this.delete(relative(this.root, path));
        removed++;
      }
      touchedFolders.add(entry.parentPath);
    }
    // Deepest first, so a parent is tried after its children; rmdir refuses non-empty folders.
    for (const dir of [...touchedFolders].sort((a, b) => b.length - a.length)) {
      if (dir.length > folder.length) await rmdir(dir).catch(() => undefined);
    }
    return removed;
  }
}
