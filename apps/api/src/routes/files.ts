import type { FastifyInstance } from 'fastify';
import { attachmentDisposition } from '../content-disposition.js';
import { type ApiContext, errorBody } from '../context.js';

/**
 * `GET|HEAD /v1/files/:jobId/:filename`: downloads a result with its content type, as an
 * attachment, with byte-range support (players seek in videos). Results expire after
 * RESULT_TTL_HOURS; an expired or unknown one is a 404 saying so.
 */
export function registerFileRoutes(app: FastifyInstance, context: ApiContext): void {
  app.route({
    method: ['GET', 'HEAD'],
    url: '/v1/files/:jobId/:filename',
    handler: async (request, reply) => {
      const { jobId, filename } = request.params as { jobId: string; filename: string };
      if (!isResultName(jobId) || !isResultName(filename)) {
        return reply.code(404).send(errorBody('No such file'));
      }
      const key = `results/${jobId}/${filename}`;
      // A name storage refuses as a key is simply not a file here.
      const info = await context.storage.stat(key).catch(() => undefined);
      if (!info) {
        const hours = Math.round(context.config.jobs.resultTtlMs / 3600_000);
        return reply
          .code(404)
          .send(errorBody(`No such file (results are kept for ${hours} hours)`));
      }
      reply
        .header('content-type', info.contentType)
        .header('content-disposition', attachmentDisposition(info.downloadName ?? filename))
        .header('accept-ranges', 'bytes')
        .header('last-modified', info.lastModified.toUTCString())
        .header('cache-control', 'private, max-age=3600');
      const range = parseRange(request.headers.range, info.size);
      if (range === 'unsatisfiable') {
        return reply.code(416).header('content-range', `bytes */${info.size}`).send();
      }
      if (range) {
        reply.code(206).header('content-range', `bytes ${range.start}-${range.end}/${info.size}`);
        reply.header('content-length', String(range.end - range.start + 1));
        if (request.method === 'HEAD') return reply.send();
        return reply.send(await context.storage.read(key, range));
      }
      reply.header('content-length', String(info.size));
      if (request.method === 'HEAD') return reply.send();
      return reply.send(await context.storage.read(key));
    },
  });
}

/**
 * Whether a path segment can name a job or a result: letters, digits, `.`, `_`, `-`, not
 * starting with a dot, and never storage's own files beside results (`<name>.meta.json`
 * sidecars, `<name>.partial-*` staging files).
 */
export function isResultName(name: string): boolean {
  return (
    /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/.test(name) &&
    !name.endsWith('.meta.json') &&
    !name.includes('.partial-')
  );
}

/** Parses a single `bytes=` range (the only kind players send); undefined when absent or odd. */
export function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | 'unsatisfiable' | undefined {
  const match = header ? /^bytes=(\d*)-(\d*)$/.exec(header.trim()) : null;
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  let start: number;
  let end: number;
  if (match[1] === '') {
    const suffix = Number(match[2]);
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(match[1]);
    end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  }
  if (start >= size || start > end) return 'unsatisfiable';
  return { start, end };
}
