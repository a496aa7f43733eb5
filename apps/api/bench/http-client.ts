/**
 * A lean HTTP/1.1 client for the API benchmark: keep-alive connections and request bodies
 * encoded once up front, sent with a Content-Length, the way curl and Python's requests send a
 * multipart form. It adds as little client time as possible to what the benchmark measures.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { performance } from 'node:perf_hooks';

/** One answered request: status, parsed JSON body, the client's and the server's time. */
export interface TimedResponse {
  status: number;
  body: Record<string, unknown>;
  /** From writing the request to the last byte of the answer, in ms. */
  clientMs: number;
  /** The server's own time from its Server-Timing header, in ms (NaN when absent). */
  serverMs: number;
}

/** A request body encoded once, with the headers that describe it. */
export interface EncodedBody {
  bytes: Buffer;
  contentType: string;
}

/** Encodes fields and files as multipart/form-data, once, for reuse across requests. */
export function encodeMultipart(
  fields: Record<string, string>,
  files: { field: string; filename: string; contentType: string; bytes: Buffer }[],
): EncodedBody {
  const boundary = `----bgremover-bench-${randomUUID()}`;
  const parts: Buffer[] = [];
  for (const [name, value] of Object.entries(fields)) {
    parts.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`,
      ),
    );
  }
  for (const file of files) {
    parts.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${file.field}"; filename="${file.filename}"\r\nContent-Type: ${file.contentType}\r\n\r\n`,
      ),
      file.bytes,
      Buffer.from('\r\n'),
    );
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { bytes: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` };
}

/** Encodes fields as application/x-www-form-urlencoded. */
export function encodeForm(fields: Record<string, string>): EncodedBody {
  return {
    bytes: Buffer.from(new URLSearchParams(fields).toString()),
    contentType: 'application/x-www-form-urlencoded',
  };
}

/** The server's own time in ms from a `Server-Timing: app;dur=…` header (NaN when absent). */
export function serverTimingMs(header: string | null | undefined): number {
  return Number(/dur=([0-9.]+)/.exec(header ?? '')?.[1]);
}

/** POSTs pre-encoded bodies (and GETs) to one server over a pool of keep-alive connections. */
export class BenchClient {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  private readonly base: URL;

  constructor(baseUrl: string) {
    this.base = new URL(baseUrl);
  }

  /** Sends one POST and resolves with its timing once the whole answer has arrived. */
  post(
    path: string,
    body: EncodedBody,
    headers: Record<string, string> = {},
  ): Promise<TimedResponse> {
    return new Promise((resolve, reject) => {
      const start = performance.now();
      const request = http.request(
        {
          agent: this.agent,
          host: this.base.hostname,
          port: this.base.port,
          path,
          method: 'POST',
          headers: {
            ...headers,
            'content-type': body.contentType,
            'content-length': body.bytes.length,
          },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', reject);
          response.on('end', () => {
            const clientMs = performance.now() - start;
            resolve({
              status: response.statusCode ?? 0,
              body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>,
              clientMs,
              serverMs: serverTimingMs(String(response.headers['server-timing'] ?? '')),
            });
          });
        },
      );
      request.on('error', reject);
      request.end(body.bytes);
    });
  }

  /** Sends one GET and resolves with its timing, status and ETag once the answer has arrived. */
  get(
    path: string,
    headers: Record<string, string> = {},
  ): Promise<TimedResponse & { etag: string }> {
    return new Promise((resolve, reject) => {
      const start = performance.now();
      const request = http.request(
        { agent: this.agent, host: this.base.hostname, port: this.base.port, path, headers },
        (response) => {
          response.on('data', () => undefined);
          response.on('error', reject);
          response.on('end', () => {
            resolve({
              status: response.statusCode ?? 0,
              body: {},
              clientMs: performance.now() - start,
              serverMs: serverTimingMs(String(response.headers['server-timing'] ?? '')),
              etag: String(response.headers.etag ?? ''),
            });
          });
        },
      );
      request.on('error', reject);
      request.end();
    });
  }

  /** Closes the pooled connections. */
  close(): void {
    this.agent.destroy();
  }
}
