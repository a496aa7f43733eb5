import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { errorBody } from './context.js';
import { findMalformedPartHeader, PartHeaderScanner } from './part-headers.js';

/** Why an upload was cut short: the route answers `status` with `message` and closes. */
export class UploadAbortedError extends Error {
  constructor(
    readonly status: 400 | 408 | 429 | 503,
    message: string,
  ) {
    super(message);
    this.name = 'UploadAbortedError';
  }
}

export interface UploadGuardOptions {
  /** No body bytes for this long cuts the upload (408). */
  idleMs: number;
  /** The whole upload taking longer than this cuts it (408). */
  totalMs: number;
  /** The multipart boundary, to check each part's header as it arrives (400 when malformed). */
  boundary: string | undefined;
}

/**
 * Watches one multipart upload as its raw bytes arrive and cuts it short when it stalls (no
 * bytes for `idleMs`), runs too long (`totalMs`), sends a part header the parser would skip or
 * choke on (a raw CR/LF in a filename), or the server shuts down (`abort`). Cutting destroys
 * the file stream being stored, so storage removes its staging file, and rejects `aborted`,
 * which the route races against the multipart iterator.
 */
export class UploadGuard {
  /** Rejects with the reason once the upload is cut; never resolves. */
  readonly aborted: Promise<never>;
  reason: UploadAbortedError | undefined;
  private rejectAborted: (error: UploadAbortedError) => void = () => undefined;
  private current: Readable | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private readonly totalTimer: NodeJS.Timeout;
  private readonly scanner: PartHeaderScanner | undefined;
  private readonly onData = (chunk: Buffer) => {
    this.armIdle();
    for (const header of this.scanner?.push(chunk) ?? []) {
      const problem = findMalformedPartHeader(header);
      if (problem) return this.abort(new UploadAbortedError(400, problem));
    }
  };

  constructor(
    private readonly raw: IncomingMessage,
    private readonly options: UploadGuardOptions,
  ) {
    this.aborted = new Promise<never>((_resolve, reject) => {
      this.rejectAborted = reject;
    });
    // Nobody may be awaiting it when it rejects; the route reads `reason` then.
    this.aborted.catch(() => undefined);
    this.scanner = options.boundary ? new PartHeaderScanner(options.boundary) : undefined;
    this.totalTimer = setTimeout(
      () =>
        this.abort(
          new UploadAbortedError(
            408,
            `The upload took longer than the limit of ${formatDuration(options.totalMs)} (UPLOAD_TIMEOUT_MS); send fewer or smaller files per request`,
          ),
        ),
      options.totalMs,
    );
    this.armIdle();
  }

  /**
   * Starts watching the request body. Call it only once the multipart parser has piped the
   * request (after the iterator's first `next()`): a data listener added earlier would start
   * the stream flowing before the parser could see the first bytes.
   */
  watch(): void {
    this.raw.on('data', this.onData);
  }

  /** The file stream being stored now: destroyed when the upload is cut. */
  track(stream: Readable | undefined): void {
    this.current = stream;
  }

  /** Cuts the upload (once): stops the timers, destroys the current file, rejects `aborted`. */
  abort(error: UploadAbortedError): void {
    if (this.reason) return;
    this.reason = error;
    this.stop();
    this.current?.destroy(error);
    this.rejectAborted(error);
  }

  /** Stops watching (the upload has been read in full, or cut). */
  stop(): void {
    clearTimeout(this.totalTimer);
    clearTimeout(this.idleTimer);
    this.raw.off('data', this.onData);
  }

  private armIdle(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(
      () =>
        this.abort(
          new UploadAbortedError(
            408,
            `The upload stalled: no bytes arrived for ${formatDuration(this.options.idleMs)} (UPLOAD_IDLE_TIMEOUT_MS); send it again`,
          ),
        ),
      this.options.idleMs,
    );
  }
}

/** "30 s", "1.5 s", "30 min". */
/**
 * Yields a request's multipart parts until the parser is done, and rejects with the guard's
 * reason as soon as the guard cuts the upload. The guard starts watching after the first
 * `next()`, which is what pipes the request into the parser.
 */
export async function* guardedParts<T>(
  parts: AsyncIterator<T>,
  guard: UploadGuard,
): AsyncGenerator<T> {
  let next = parts.next();
  guard.watch();
  for (;;) {
    const result = await Promise.race([next, guard.aborted]);
    if (result.done) return;
    yield result.value;
    next = parts.next();
  }
}

export function formatDuration(ms: number): string {
  if (ms >= 120_000) return `${Number((ms / 60_000).toFixed(1))} min`;
  return `${Number((ms / 1000).toFixed(1))} s`;
}

/** The multipart boundary from a Content-Type header, or undefined. */
export function boundaryOf(contentType: string | undefined): string | undefined {
  const match = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType ?? '');
  return match?.[1] ?? match?.[2];
}

/**
 * Answers a request whose body was not read to its end, then closes the connection: the rest
 * of that body must never be read as the next request, and a stalled client must not keep the
 * socket (or the server's shutdown) waiting.
 */
export function replyAndClose(
  request: FastifyRequest,
  reply: FastifyReply,
  status: number,
  message: string,
): FastifyReply {
  const socket = request.raw.socket;
  reply.raw.once('finish', () => {
    socket.end();
    setTimeout(() => socket.destroy(), 1000).unref();
  });
  return reply.code(status).header('connection', 'close').send(errorBody(message));
}
