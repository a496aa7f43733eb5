import { Transform } from 'node:stream';

/** A pass-through stream that counts what went through it. */
export type ByteLimitStream = Transform & { readonly bytesSeen: number };

/**
 * A pass-through stream that fails with `refuse(bytesSeen)` as soon as more than `maxBytes` have
 * gone through it: a download or upload is cut at the limit, whatever size it claimed.
 * `bytesSeen` says how many bytes it has passed so far (e.g. to refuse an empty file).
 */
export function byteLimit(maxBytes: number, refuse: (bytesSeen: number) => Error): ByteLimitStream {
  let seen = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      seen += chunk.length;
      if (seen > maxBytes) done(refuse(seen));
      else done(null, chunk);
    },
  });
  return Object.defineProperty(stream, 'bytesSeen', { get: () => seen }) as ByteLimitStream;
}
