import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { spawnWorkerProcess } from '../src/worker-process.js';

const child = fileURLToPath(new URL('./fixtures/child.ts', import.meta.url));

describe('spawnWorkerProcess', () => {
  it('resolves on the ready message sent over IPC, with its health port and output', async () => {
    const worker = await spawnWorkerProcess(child, process.env, 'kit-a');
    try {
      expect(worker.healthPort).toBe(4321);
      expect(worker.id).toBe('kit-a');
      expect(worker.output()).toContain('starting kit-a');
    } finally {
      worker.child.kill('SIGKILL');
      await worker.exited;
    }
  });

  it('rejects with the output when the process exits before it is ready', async () => {
    await expect(
      spawnWorkerProcess(child, { ...process.env, CHILD_FAIL: '1' }, 'kit-b'),
    ).rejects.toThrow(/worker kit-b exited with 3 before it was ready:\nstarting kit-b/);
  });
});
