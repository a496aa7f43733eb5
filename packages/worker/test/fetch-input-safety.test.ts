import { mkdtemp, readFile, rm } from 'node:fs/promises';
import {
  createServer,
  type IncomingHttpHeaders,
  type RequestListener,
  type Server,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalStorage } from '@bgremover/jobs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadWorkerConfig } from '../src/config.js';
import { InputRefusedError, TransientError } from '../src/errors.js';
import { type FetchInputOptions, fetchInput } from '../src/fetch-input.js';
import { isPrivateAddress, safeFetch } from '../src/safe-fetch.js';

/** A loopback HTTP server on `host` (127.0.0.1, or another 127/8 address as a second "host"). */
interface TestServer {
  origin: string;
  requests: { url: string; headers: IncomingHttpHeaders }[];
  close(): Promise<void>;
}

const servers: Server[] = [];

async function serve(host: string, handler: RequestListener): Promise<TestServer> {
  const requests: TestServer['requests'] = [];
  const server = createServer((request, response) => {
    requests.push({ url: request.url ?? '', headers: request.headers });
    handler(request, response);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://${host}:${port}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bgremover-fetch-safety-'));
});
afterEach(async () => {
  await Promise.all(
    servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))),
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function options(overrides: Partial<FetchInputOptions> = {}): FetchInputOptions {
  return {
    storage: new LocalStorage(dir),
    dir,
    attachmentHosts: ['127.0.0.1', '127.0.0.2'],
    allowPrivateHosts: ['127.0.0.1', '127.0.0.2'],
    maxBytes: 1024 * 1024,
    timeoutMs: 5000,
    ...overrides,
  };
}

function fetchUrl(url: string, opts: FetchInputOptions) {
  return fetchInput({ kind: 'url', url, filename: 'photo.png' }, opts);
}

const servePng: RequestListener = (_request, response) => {
  response.writeHead(200, { 'content-type': 'image/png' }).end(PNG);
};

function redirectTo(location: string, status = 302): RequestListener {
  return (_request, response) => response.writeHead(status, { location }).end();
}

describe('redirects', () => {
  it('follows a redirect to an allowed host and keeps the file', async () => {
    const target = await serve('127.0.0.2', servePng);
    const start = await serve('127.0.0.1', redirectTo(`${target.origin}/file.png?sig=abc`, 301));
    const path = await fetchUrl(`${start.origin}/start`, options());
    expect(await readFile(path)).toEqual(PNG);
    expect(target.requests.map((request) => request.url)).toEqual(['/file.png?sig=abc']);
  });

  it('refuses a redirect from an allowed host to a host not on the list, without asking it', async () => {
    const elsewhere = await serve('127.0.0.2', servePng);
    const start = await serve('127.0.0.1', redirectTo(`${elsewhere.origin}/x.png?token=secret`));
    const attempt = fetchUrl(`${start.origin}/x.png`, options({ attachmentHosts: ['127.0.0.1'] }));
    await expect(attempt).rejects.toThrow(InputRefusedError);
    await expect(attempt).rejects.toThrow(
      /127\.0\.0\.1 redirected to 127\.0\.0\.2: attachments are only fetched from 127\.0\.0\.1, not 127\.0\.0\.2/,
    );
    await expect(attempt).rejects.not.toThrow(/secret|token=/);
    expect(elsewhere.requests).toHaveLength(0);
  });

  it('refuses a redirect to a host outside the list by name, too', async () => {
    const start = await serve('127.0.0.1', redirectTo('https://metadata.internal.example/latest'));
    await expect(fetchUrl(`${start.origin}/x.png`, options())).rejects.toThrow(
      /redirected to metadata\.internal\.example: .*not metadata\.internal\.example/,
    );
  });

  it('gives up after five redirects', async () => {
    const loop = await serve('127.0.0.1', (request, response) => {
      const n = Number(request.url?.slice(1)) || 0;
      response.writeHead(307, { location: `/${n + 1}` }).end();
    });
    const attempt = fetchUrl(`${loop.origin}/0`, options());
    await expect(attempt).rejects.toThrow(InputRefusedError);
    await expect(attempt).rejects.toThrow(/redirected more than 5 times/);
    // The first request and five redirects followed; the sixth is not.
    expect(loop.requests.map((request) => request.url)).toEqual([
      '/0',
      '/1',
      '/2',
      '/3',
      '/4',
      '/5',
    ]);
  });

  it('follows exactly five redirects', async () => {
    const chain = await serve('127.0.0.1', (request, response) => {
      const n = Number(request.url?.slice(1)) || 0;
      if (n < 5) response.writeHead(302, { location: `/${n + 1}` }).end();
      else servePng(request, response);
    });
    expect(await readFile(await fetchUrl(`${chain.origin}/0`, options()))).toEqual(PNG);
  });

  it('refuses a plain-http hop to a host that is not opted in (https is required)', async () => {
    // Plain http is only for hosts the operator opted in (ALLOW_PRIVATE_FETCH_HOSTS); an allowed
    // public host must be reached over https, on the first hop and on every redirect.
    const start = await serve('127.0.0.1', redirectTo('http://files.example.com/x.png'));
    const attempt = fetchUrl(
      `${start.origin}/x.png`,
      options({ attachmentHosts: ['127.0.0.1', 'example.com'] }),
    );
    await expect(attempt).rejects.toThrow(InputRefusedError);
    await expect(attempt).rejects.toThrow(
      /redirected to files\.example\.com: attachments are fetched over https only, not plain http \(files\.example\.com\)/,
    );
  });

  it('refuses other schemes on a redirect', async () => {
    const start = await serve('127.0.0.1', redirectTo('file:///etc/passwd'));
    await expect(fetchUrl(`${start.origin}/x.png`, options())).rejects.toThrow(
      /https only, not file/,
    );
  });

  it('does not send the Authorization header to another host, but keeps it on the same origin', async () => {
    const other = await serve('127.0.0.2', servePng);
    const start = await serve('127.0.0.1', (request, response) => {
      if (request.url === '/first') response.writeHead(302, { location: '/second' }).end();
      else response.writeHead(302, { location: `${other.origin}/file.png` }).end();
    });
    const { response } = await safeFetch(
      {
        url: `${start.origin}/first`,
        headers: { authorization: 'Bearer xoxb-test-token' },
        signal: AbortSignal.timeout(10_000),
      },
      {
        allowedHosts: ['127.0.0.1', '127.0.0.2'],
        allowPrivate: ['127.0.0.1', '127.0.0.2'],
        maxRedirects: 5,
      },
    );
    const chunks: Buffer[] = [];
    for await (const chunk of response) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks)).toEqual(PNG);
    expect(start.requests.map((request) => request.headers.authorization)).toEqual([
      'Bearer xoxb-test-token',
      'Bearer xoxb-test-token',
    ]);
    expect(other.requests).toHaveLength(1);
    expect(other.requests[0]?.headers.authorization).toBeUndefined();
  });
});

describe('private addresses', () => {
  it('refuses an IP literal on loopback without the opt-in, before connecting', async () => {
    const server = await serve('127.0.0.1', servePng);
    const attempt = fetchUrl(`${server.origin}/x.png`, options({ allowPrivateHosts: [] }));
    await expect(attempt).rejects.toThrow(InputRefusedError);
    await expect(attempt).rejects.toThrow(
      /not fetched from private or local addresses: 127\.0\.0\.1 is loopback, private or link-local/,
    );
    expect(server.requests).toHaveLength(0);
  });

  it('refuses a name that resolves to loopback without the opt-in (checked at connect time)', async () => {
    const server = await serve('127.0.0.1', servePng);
    const port = new URL(server.origin).port;
    const attempt = fetchUrl(
      `https://localhost:${port}/x.png`,
      options({ attachmentHosts: ['localhost'], allowPrivateHosts: [] }),
    );
    await expect(attempt).rejects.toThrow(InputRefusedError);
    await expect(attempt).rejects.toThrow(
      /localhost resolves to (127\.0\.0\.1|::1), which is loopback/,
    );
    expect(server.requests).toHaveLength(0);
  });

  it('refuses IPv4-mapped IPv6 and link-local literals', async () => {
    const noOptIn = options({
      attachmentHosts: ['::ffff:7f00:1', '169.254.169.254'],
      allowPrivateHosts: [],
    });
    await expect(fetchUrl('https://[::ffff:127.0.0.1]/x.png', noOptIn)).rejects.toThrow(
      /::ffff:7f00:1 is loopback/,
    );
    await expect(fetchUrl('https://169.254.169.254/latest/meta-data', noOptIn)).rejects.toThrow(
      /169\.254\.169\.254 is loopback, private or link-local/,
    );
  });

  it('lets an opted-in CIDR through', async () => {
    const server = await serve('127.0.0.2', servePng);
    const path = await fetchUrl(
      `${server.origin}/x.png`,
      options({ attachmentHosts: ['127.0.0.2'], allowPrivateHosts: ['127.0.0.0/8'] }),
    );
    expect(await readFile(path)).toEqual(PNG);
  });

  it('classifies addresses', () => {
    for (const address of [
      '127.0.0.1',
      '127.255.0.9',
      '10.1.2.3',
      '172.16.0.1',
      '172.31.255.255',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '::1',
      '::',
      'fc00::1',
      'fd12:3456::1',
      'fe80::1',
      '::ffff:127.0.0.1',
      '::ffff:7f00:1',
      '::ffff:10.0.0.1',
      '64:ff9b::a9fe:a9fe',
    ]) {
      expect(isPrivateAddress(address), address).toBe(true);
    }
    for (const address of [
      '8.8.8.8',
      '172.32.0.1',
      '100.128.0.1',
      '2606:4700::1111',
      '::ffff:1.1.1.1',
    ]) {
      expect(isPrivateAddress(address), address).toBe(false);
    }
  });

  it('reads ALLOW_PRIVATE_FETCH_HOSTS and refuses malformed ranges', () => {
    const base = { REDIS_URL: 'redis://127.0.0.1:6379' };
    expect(loadWorkerConfig(base).allowPrivateFetchHosts).toEqual([]);
    expect(
      loadWorkerConfig({ ...base, ALLOW_PRIVATE_FETCH_HOSTS: 'Mirror.internal, 10.0.0.0/8' })
        .allowPrivateFetchHosts,
    ).toEqual(['mirror.internal', '10.0.0.0/8']);
    expect(() => loadWorkerConfig({ ...base, ALLOW_PRIVATE_FETCH_HOSTS: '10.0.0.0/99' })).toThrow(
      /ALLOW_PRIVATE_FETCH_HOSTS/,
    );
  });
});

describe('what the platform sends back', () => {
  it('refuses an HTML page (a sign-in page) as the platform not giving us the file', async () => {
    const server = await serve('127.0.0.1', (_request, response) => {
      response
        .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
        .end('<html><body>Sign in to continue</body></html>');
    });
    const attempt = fetchUrl(`${server.origin}/x.png`, options());
    await expect(attempt).rejects.toThrow(InputRefusedError);
    await expect(attempt).rejects.toThrow(
      /The platform would not give us the file: 127\.0\.0\.1 sent text\/html instead of it/,
    );
  });

  it('refuses 403 as the platform not giving us the file, and retries 503', async () => {
    const server = await serve('127.0.0.1', (request, response) => {
      response.writeHead(request.url === '/forbidden' ? 403 : 503).end();
    });
    await expect(fetchUrl(`${server.origin}/forbidden`, options())).rejects.toThrow(
      /would not give us the file: 127\.0\.0\.1 answered HTTP 403/,
    );
    await expect(fetchUrl(`${server.origin}/busy`, options())).rejects.toThrow(TransientError);
  });

  it('still enforces the size limit after a redirect', async () => {
    const big = await serve('127.0.0.2', (_request, response) => {
      response.writeHead(200, { 'content-type': 'application/octet-stream' });
      response.end(Buffer.alloc(4096));
    });
    const start = await serve('127.0.0.1', redirectTo(`${big.origin}/big`));
    await expect(fetchUrl(`${start.origin}/x`, options({ maxBytes: 1000 }))).rejects.toThrow(
      /too large/,
    );
  });
});
