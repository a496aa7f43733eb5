import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HealthProbe {
  /** True when the worker is running and Redis answers. */
  healthy(): Promise<boolean>;
  /** Prometheus text for `/metrics`. */
  metrics(): Promise<string>;
}

/** How long `/healthz` waits for the probe before answering 503. */
const HEALTH_TIMEOUT_MS = 1_000;

/** Settles with `promise`, or with `fallback` after `ms` milliseconds, whichever comes first. */
function withTimeout<T>(promise: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(fallback), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/**
 * Serves `GET /healthz` (200, or 503 with a JSON status when unhealthy or when the probe takes
 * over a second) and `GET /metrics` (Prometheus text)
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
      // While Redis is down a ping waits for the reconnection: answer 503 after a second
      // instead of leaving the orchestrator's probe hanging.
      withTimeout(probe.healthy(), HEALTH_TIMEOUT_MS, false)
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
