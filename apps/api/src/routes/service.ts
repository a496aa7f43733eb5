import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context.js';
import { buildOpenApiDocument, renderDocsPage } from '../openapi.js';

/** `/healthz`, `/openapi.json` and `/docs`. */
export function registerServiceRoutes(app: FastifyInstance, context: ApiContext): void {
  const document = buildOpenApiDocument();
  const page = renderDocsPage(document);
  app.get('/healthz', async (_request, reply) => {
    const redisOk = await context.redis.ping().then(
      (answer) => answer === 'PONG',
      () => false,
    );
    return reply.code(redisOk ? 200 : 503).send({ status: redisOk ? 'ok' : 'redis unavailable' });
  });
  app.get('/openapi.json', async () => document);
  app.get('/docs', async (_request, reply) => reply.type('text/html; charset=utf-8').send(page));
}
