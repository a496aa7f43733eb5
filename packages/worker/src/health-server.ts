import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HealthProbe {
  /** True when the worker is running and Redis answers. */
  healthy(): Promise<boolean>;
  /** Prometheus text for `/metrics`. */
  metrics(): Promise<string>;
}

/**
 * Serves `GET /healthz` (200 or 503 with a JSON status) and `GET /metrics` (Prometheus text)
 * for orchestrators and scrapers. Resolves with the server and the port it listens on.
 */
export async function startHealthServer(
  probe: HealthProbe,
  port: number,
  host: string,
): Promise<{ server: Server; port: number }> {
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET') {
      response.writeHead(405).end();
      return;
    }
    if (path === '/healthz') {
      probe
        .healthy()
        .catch(() => false)
        .then((ok) => {
          response
            .writeHead(ok ? 200 : 503, { 'content-type': 'application/json' })
            .end(JSON.stringify({ status: ok ? 'ok' : 'unavailable' }));
        });
      return;
    }
    if (path === '/metrics') {
      probe
        .metrics()
        .then((text) =>
          response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(text),
        )
        .catch((error: Error) => response.writeHead(500).end(error.message));
      return;
    }
    response.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return { server, port: (server.address() as AddressInfo).port };
}
