import { open } from 'node:fs/promises';

/**
 * Whether a GIF file holds more than one frame (an animation), read from its block structure
 * without decoding pixels: the header and logical screen descriptor, the global colour table,
 * then extension blocks and image descriptors until a second image or the trailer. Reads the
 * file in 64 KiB pieces and stops as soon as it knows. A malformed or truncated file counts as
 * one frame (the image pipeline then gives its own error).
 */
export async function gifHasSeveralFrames(path: string): Promise<boolean> {
  const reader = await ChunkReader.open(path);
  try {
    return (await countFramesUpTo(reader, 2)) >= 2;
  } finally {
    await reader.close();
  }
}

const IMAGE_DESCRIPTOR = 0x2c;
const EXTENSION = 0x21;
const TRAILER = 0x3b;

async function countFramesUpTo(reader: ChunkReader, limit: number): Promise<number> {
  const header = await reader.bytes(13);
  if (!header || !/^GIF8[79]a$/.test(header.subarray(0, 6).toString('latin1'))) return 0;
  const screenFlags = header[10] ?? 0;
  if (screenFlags & 0x80) await reader.skip(3 * 2 ** ((screenFlags & 0x07) + 1));
  let frames = 0;
  for (;;) {
    const introducer = await reader.byte();
    if (introducer === undefined || introducer === TRAILER) return frames;
    if (introducer === EXTENSION) {
      if ((await reader.byte()) === undefined || !(await skipSubBlocks(reader))) return frames;
    } else if (introducer === IMAGE_DESCRIPTOR) {
      frames++;
      if (frames >= limit) return frames;
      const descriptor = await reader.bytes(9);
      if (!descriptor) return frames;
      const flags = descriptor[8] ?? 0;
      if (flags & 0x80) await reader.skip(3 * 2 ** ((flags & 0x07) + 1));
      // LZW minimum code size, then the image data sub-blocks.
      if ((await reader.byte()) === undefined || !(await skipSubBlocks(reader))) return frames;
    } else {
      return frames;
    }
  }
}

/** Skips data sub-blocks up to and including the zero-length terminator; false when cut short. */
async function skipSubBlocks(reader: ChunkReader): Promise<boolean> {
  for (;;) {
    const size = await reader.byte();
    if (size === undefined) return false;
    if (size === 0) return true;
    if (!(await reader.skip(size))) return false;
  }
}

/** Sequential reads over a file, 64 KiB at a time. */
class ChunkReader {
  private buffer = Buffer.alloc(0);
  private offset = 0;
  private position = 0;
  private ended = false;

  private constructor(private readonly handle: Awaited<ReturnType<typeof open>>) {}

  static async open(path: string): Promise<ChunkReader> {
    return new ChunkReader(await open(path, 'r'));
  }

  async close(): Promise<void> {
    await this.handle.close();
  }

  async byte(): Promise<number | undefined> {
    if (!(await this.ensure(1))) return undefined;
    return this.buffer[this.offset++];
  }

  async bytes(count: number): Promise<Buffer | undefined> {
    if (!(await this.ensure(count))) return undefined;
    const slice = this.buffer.subarray(this.offset, this.offset + count);
    this.offset += count;
    return slice;
  }

  async skip(count: number): Promise<boolean> {
    let left = count;
    while (left > 0) {
      if (!(await this.ensure(1))) return false;
      const step = Math.min(left, this.buffer.length - this.offset);
      this.offset += step;
      left -= step;
    }
    return true;
  }

  /** Makes at least `count` unread bytes available; false at the end of the file. */
  private async ensure(count: number): Promise<boolean> {
    while (this.buffer.length - this.offset < count) {
      if (this.ended) return false;
      const chunk = Buffer.alloc(64 * 1024);
      const { bytesRead } = await this.handle.read(chunk, 0, chunk.length, this.position);
      if (bytesRead === 0) this.ended = true;
      this.position += bytesRead;
      this.buffer = Buffer.concat([
        this.buffer.subarray(this.offset),
        chunk.subarray(0, bytesRead),
      ]);
      this.offset = 0;
    }
    return true;
  }
}
