/** Longest part header block looked at; a longer one is left to the parser's own limits. */
const MAX_HEADER_BYTES = 16 * 1024;
const HEADER_END = Buffer.from('\r\n\r\n');
const EMPTY = Buffer.alloc(0);

/**
 * Finds each multipart part's header block in a request body as it streams past, without
 * holding the body: only a delimiter's length (or one header block) is carried between chunks.
 * It exists because busboy silently skips a part whose filename holds a raw CR or LF (and, for
 * some part sizes, never finishes the request), so the route cannot see such a part itself.
 */
export class PartHeaderScanner {
  private readonly delimiter: Buffer;
  /** The body opens with a delimiter that has no CRLF before it: pretend there was one. */
  private carry: Buffer = Buffer.from('\r\n');
  private inHeader = false;
  private done = false;

  constructor(boundary: string) {
    this.delimiter = Buffer.from(`\r\n--${boundary}`, 'latin1');
  }

  /** Feeds the next body bytes; returns the header blocks completed by them (latin1 text). */
  push(chunk: Buffer): string[] {
    if (this.done) return [];
    if (this.inHeader) {
      const data = this.carry.length ? Buffer.concat([this.carry, chunk]) : chunk;
      return this.scan(data, 0);
    }
    // Between headers only a delimiter's length is carried over: look for a delimiter that
    // straddles the two chunks in a small window, never copying the chunk itself.
    if (this.carry.length && chunk.length < this.delimiter.length) {
      return this.scan(Buffer.concat([this.carry, chunk]), 0);
    }
    if (this.carry.length) {
      const window = Buffer.concat([this.carry, chunk.subarray(0, this.delimiter.length - 1)]);
      const at = window.indexOf(this.delimiter);
      const carried = this.carry.length;
      this.carry = EMPTY;
      if (at !== -1) {
        this.inHeader = true;
        return this.scan(chunk, at + this.delimiter.length - carried);
      }
    }
    return this.scan(chunk, 0);
  }

  /** Scans `data` from `pos`, in the state left by the previous bytes. */
  private scan(data: Buffer, start: number): string[] {
    const headers: string[] = [];
    let pos = start;
    for (;;) {
      if (!this.inHeader) {
        const at = data.indexOf(this.delimiter, pos);
        if (at === -1) {
          const keep = Math.max(pos, data.length - (this.delimiter.length - 1));
          this.carry = Buffer.from(data.subarray(keep));
          return headers;
        }
        pos = at + this.delimiter.length;
        this.inHeader = true;
        continue;
      }
      if (data.length - pos < 2) break;
      // `--boundary--` closes the body.
      if (data[pos] === 0x2d && data[pos + 1] === 0x2d) {
        this.done = true;
        this.carry = EMPTY;
        return headers;
      }
      const end = data.indexOf(HEADER_END, pos);
      if (end === -1) {
        if (data.length - pos > MAX_HEADER_BYTES) {
          this.done = true;
          this.carry = EMPTY;
          return headers;
        }
        break;
      }
      // Skip the rest of the delimiter line (optional padding, then CRLF).
      const block = data.subarray(pos, end).toString('latin1');
      headers.push(block.replace(/^[ \t]*\r\n/, ''));
      pos = end + HEADER_END.length;
      this.inHeader = false;
    }
    this.carry = Buffer.from(data.subarray(pos));
    return headers;
  }
}

/**
 * Says what is wrong with a part's header block, or undefined when every line is a
 * `Name: value` header (or a folded continuation): a raw CR or LF inside a quoted filename
 * breaks its line in two, which is what this catches.
 */
export function findMalformedPartHeader(block: string): string | undefined {
  const lines = block.split('\r\n');
  const bad = lines.some(
    (line) => /[\r\n]/.test(line) || !(/^[!#-9;-~]+:/.test(line) || /^[ \t]/.test(line)),
  );
  if (!bad) return undefined;
  const field = /\bname="([^"\r\n]*)"/i.exec(block)?.[1];
  const where = field !== undefined ? ` in field "${field}"` : '';
  if (/filename/i.test(block)) {
    return `The file part${where} has a filename holding a raw line break (CR or LF), which multipart cannot carry: remove it from the name or send the name percent-encoded (filename*=UTF-8''...)`;
  }
  return `A multipart part header${where} is malformed (a raw CR or LF inside a value?)`;
}
