import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';

/** A port nothing listens on now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === 'string') throw new Error('no free port');
  return address.port;
}

/**
 * A redis-server of a test's own, on a free port, that the test may kill (SIGKILL) and start
 * again on the same port, for outage and fault tests. Without `dataDir` it keeps nothing; with
 * one it writes every command to an append-only file there, so a restart brings the data back.
 */
export class TestRedisServer {
  private child: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    private readonly dataDir: string | undefined,
  ) {}

  /** Starts a server on a free port and resolves once it accepts connections. */
  static async start(options: { dataDir?: string } = {}): Promise<TestRedisServer> {
    const server = new TestRedisServer(await freePort(), options.dataDir);
    await server.start();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Whether the server process is running. */
  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null;
  }

  /** (Re)starts the server on its port; resolves once it accepts connections. */
  async start(): Promise<void> {
    const persistence = this.dataDir
      ? ['--dir', this.dataDir, '--appendonly', 'yes', '--appendfsync', 'always']
      : ['--appendonly', 'no'];
    const child = spawn(
      'redis-server',
      ['--port', String(this.port), '--save', '', ...persistence],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    this.child = child;
    await new Promise<void>((resolve, reject) => {
      let output = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Ready to accept connections')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`redis-server exited (${code}): ${output}`)));
      child.once('error', (error) =>
        reject(new Error(`redis-server did not start: ${error.message}`)),
      );
    });
  }

  /** Kills the server at once (SIGKILL), as a crash would, and waits for it to be gone. */
  async kill(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
}
