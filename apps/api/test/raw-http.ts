import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { API_KEY } from './api-harness.js';

/** An HTTP response read off a raw socket. */
export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * Writes an HTTP request by hand on a raw socket (headers, then `body`, never ending the
 * socket's writing side, like a client that stalls) and resolves with the response once it
 * has arrived in full, or with what came when the server closed. `socket` lets a test send
 * more or close it.
 */
export function rawRequest(
  baseUrl: string,
  head: { method?: string; path: string; headers: Record<string, string> },
  body: Buffer,
): { response: Promise<RawResponse>; socket: Socket } {
  const { hostname, port } = new URL(baseUrl);
  const socket = connect(Number(port), hostname);
  const lines = [`${head.method ?? 'POST'} ${head.path} HTTP/1.1`, `host: ${hostname}:${port}`];
  for (const [name, value] of Object.entries(head.headers)) lines.push(`${name}: ${value}`);
  socket.write(`${lines.join('\r\n')}\r\n\r\n`);
  socket.write(body);
  const response = new Promise<RawResponse>((resolve, reject) => {
    let received = Buffer.alloc(0);
    const parse = (final: boolean) => {
      const end = received.indexOf('\r\n\r\n');
      if (end === -1) {
        if (final) reject(new Error(`connection closed without a response: ${received}`));
        return;
      }
      const [statusLine = '', ...headerLines] = received.subarray(0, end).toString().split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of headerLines) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      const bodyBytes = received.subarray(end + 4);
      const length = Number(headers['content-length'] ?? Number.NaN);
      if (!final && !(bodyBytes.length >= length)) return;
      socket.destroy();
      resolve({
        status: Number(statusLine.split(' ')[1]),
        headers,
        body: bodyBytes.toString(),
      });
    };
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      parse(false);
    });
    socket.on('close', () => parse(true));
    socket.on('error', () => undefined);
  });
  return { response, socket };
}

/** A multipart body built by hand, so part headers can hold what FormData would never send. */
export function multipartBody(
  boundary: string,
  parts: { headers: string; body: Buffer | string }[],
): Buffer {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    chunks.push(Buffer.from(`--${boundary}\r\n${part.headers}\r\n\r\n`, 'latin1'));
    chunks.push(Buffer.isBuffer(part.body) ? part.body : Buffer.from(part.body));
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}

/** Headers for a multipart POST to /v1/convert/ of `length` bytes. */
export function convertHeaders(boundary: string, length: number): Record<string, string> {
  return {
    authorization: API_KEY,
    'content-type': `multipart/form-data; boundary=${boundary}`,
    'content-length': String(length),
  };
}

/** A PNG the API sniffs as an image: coffee.png's header chunk, then `bytes` of noise. */
export async function noisePng(bytes: number): Promise<Buffer> {
  const png = await readFile(
    fileURLToPath(new URL('../../../fixtures/images/coffee.png', import.meta.url)),
  );
  const idat = Buffer.alloc(8);
  idat.writeUInt32BE(bytes, 0);
  idat.write('IDAT', 4, 'latin1');
  return Buffer.concat([png.subarray(0, 33), idat, randomBytes(bytes)]);
}

/** Every file under a folder (relative paths); none when it does not exist. */
export async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(dir.length + 1));
}
