import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';

/** True when a Redis server answers PING at `url` within a second. */
export async function redisAnswers(url: string): Promise<boolean> {
  const client = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: 1000,
    retryStrategy: () => null,
  });
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

/** A free TCP port on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * The Redis to use: the one at `url` when it answers, otherwise a `redis-server` started on a
 * free port (no persistence) that `stop` shuts down.
 */
export async function ensureRedis(
  url: string,
): Promise<{ url: string; started: boolean; stop: () => void }> {
  if (await redisAnswers(url)) return { url, started: false, stop: () => {} };
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
  const started = `redis://127.0.0.1:${port}`;
  for (let attempt = 0; attempt < 50 && !(await redisAnswers(started)); attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (!(await redisAnswers(started)))
    throw new Error('No Redis answers and redis-server could not be started');
  return { url: started, started: true, stop: () => child.kill('SIGTERM') };
}
