/**
 * Reassembling a file that an npm data package publishes as sha256-named chunks (img.ly's
 * `@imgly/background-removal-data`): `dist/resources.json` maps a resource key to its size and
 * its chunks, each `{ hash, offsets: [start, end] }` with the chunk stored as `dist/<hash>`.
 */

import { createHash } from 'node:crypto';
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';

interface ChunkEntry {
  hash: string;
  offsets: [number, number];
}

interface ResourceEntry {
  size: number;
  chunks: ChunkEntry[];
}

/** The chunk file names of one resource, in order (for extracting just those from a tarball). */
export async function listResourceChunks(distDir: string, resourceKey: string): Promise<string[]> {
  return (await readResource(distDir, resourceKey)).chunks.map((chunk) => chunk.hash);
}

/**
 * Writes the resource `resourceKey` of the package's `dist` folder to `target`: every chunk's
 * sha256 must equal its name, the chunks must tile 0..size without gaps or overlaps, and the
 * result must have the listed size. Throws an Error naming the first problem. The caller checks
 * the whole file's pinned digest afterwards.
 */
export async function assembleChunkedResource(
  distDir: string,
  resourceKey: string,
  target: string,
): Promise<void> {
  const resource = await readResource(distDir, resourceKey);
  const output = await open(target, 'w');
  try {
    let position = 0;
    for (const [index, chunk] of resource.chunks.entries()) {
      const [start, end] = chunk.offsets;
      if (start !== position || end <= start) {
        throw new Error(
          `${resourceKey} chunk ${index} covers ${start}..${end}, expected to start at ${position}`,
        );
      }
      const bytes = await readFile(join(distDir, chunk.hash));
      if (bytes.length !== end - start) {
        throw new Error(
          `${resourceKey} chunk ${index} (${chunk.hash}) has ${bytes.length} bytes, expected ${end - start}`,
        );
      }
      const digest = createHash('sha256').update(bytes).digest('hex');
      if (digest !== chunk.hash.toLowerCase()) {
        throw new Error(
          `${resourceKey} chunk ${index} has sha256 ${digest}, expected ${chunk.hash}`,
        );
      }
      await output.write(bytes, 0, bytes.length, position);
      position = end;
    }
    if (position !== resource.size) {
      throw new Error(`${resourceKey} chunks cover ${position} bytes, expected ${resource.size}`);
    }
  } finally {
    await output.close();
  }
}

async function readResource(distDir: string, resourceKey: string): Promise<ResourceEntry> {
  const manifestPath = join(distDir, 'resources.json');
  const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as Record<string, unknown>;
  const entry = manifest[resourceKey] as Partial<ResourceEntry> | undefined;
  if (!entry || !Array.isArray(entry.chunks) || typeof entry.size !== 'number') {
    throw new Error(`${manifestPath} lists no resource ${resourceKey}`);
  }
  for (const chunk of entry.chunks) {
    const valid =
      typeof chunk?.hash === 'string' &&
      /^[0-9a-fA-F]{64}$/.test(chunk.hash) &&
      Array.isArray(chunk.offsets) &&
      chunk.offsets.length === 2 &&
      chunk.offsets.every((offset) => Number.isInteger(offset) && offset >= 0);
    if (!valid) throw new Error(`${manifestPath}: a chunk of ${resourceKey} is malformed`);
  }
  return { size: entry.size, chunks: entry.chunks };
}
