import { type ChildProcess, spawn } from 'node:child_process';

/** What a worker process sends its parent over IPC once it takes jobs. */
export interface WorkerReadyMessage {
  type: 'ready';
  healthPort: number;
  workerId: string;
}

/** A worker running as its own process (the real entry point), for crash and shutdown tests. */
export interface WorkerProcess {
  child: ChildProcess;
  id: string;
  healthPort: number;
  exited: Promise<number | null>;
  /** Everything it has written to stdout and stderr so far. */
  output: () => string;
}

function isReadyMessage(message: unknown): message is WorkerReadyMessage {
  return (
    typeof message === 'object' &&
    message !== null &&
    (message as { type?: unknown }).type === 'ready' &&
    typeof (message as { healthPort?: unknown }).healthPort === 'number'
  );
}

/**
 * Starts the worker entry point `entry` (TypeScript, through tsx, sources by the `source`
 * condition) as `WORKER_ID=id` and resolves once it reports readiness over IPC; rejects with its
 * output if it exits first or is not ready within `timeoutMs`.
 */
export function spawnWorkerProcess(
  entry: string,
  env: NodeJS.ProcessEnv,
  id: string,
  timeoutMs = 90_000,
): Promise<WorkerProcess> {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', entry], {
    env: { ...env, WORKER_ID: id, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`worker ${id} was not ready after ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`worker ${id} exited with ${code} before it was ready:\n${output}`));
    };
    // 'close', not 'exit': by then its last output has been read.
    child.once('close', onExit);
    child.on('message', (message: unknown) => {
      if (!isReadyMessage(message)) return;
      clearTimeout(timer);
      child.off('close', onExit);
      // The channel has done its work: it must not keep the test process alive.
      child.channel?.unref();
      resolve({ child, id, healthPort: message.healthPort, exited, output: () => output });
    });
  });
}
