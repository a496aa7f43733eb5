import { afterAll, describe, expect, it } from 'vitest';
import { BgRemoverError } from '../src/errors.js';
import { threadClient } from '../src/threads/thread-rpc.js';

export type TestMethods = {
  double(request: { values: Float64Array<ArrayBuffer> }): Float64Array<ArrayBuffer>;
  wait(request: { ms: number; label: string }): string;
  refuse(request: { field: string }): never;
  fail(request: { message: string }): never;
  exit(request: { code: number }): never;
};

const thread = threadClient<TestMethods>({
  callerUrl: import.meta.url,
  worker: 'thread-rpc-worker',
  purpose: 'testing',
});
afterAll(() => thread.close());

describe('threadClient and serveThread', () => {
  it('call a method on the thread, moving the buffers named for transfer', async () => {
    const values = Float64Array.from([1, 2, 3]);
    const doubled = await thread.call('double', { values }, [values.buffer]);
    expect([...doubled]).toEqual([2, 4, 6]);
    expect(values.buffer.byteLength).toBe(0); // moved, not copied
  });

  it('answer calls in the order they were made, one at a time', async () => {
    const finished: string[] = [];
    await Promise.all(
      [
        { ms: 80, label: 'slow' },
        { ms: 0, label: 'quick' },
      ].map(async (request) => finished.push(await thread.call('wait', request))),
    );
    expect(finished).toEqual(['slow', 'quick']);
  });

  it("bring a BgRemoverError back with its code and field, other errors with the thread's purpose", async () => {
    const refused = await thread.call('refuse', { field: 'bg_color' }).catch((error) => error);
    expect(refused).toBeInstanceOf(BgRemoverError);
    expect(refused).toMatchObject({ code: 'invalid_parameter', field: 'bg_color' });
    await expect(thread.call('fail', { message: 'out of paint' })).rejects.toThrow(
      'testing failed: out of paint',
    );
    // The thread goes on serving after a failure.
    await expect(thread.call('wait', { ms: 0, label: 'still here' })).resolves.toBe('still here');
  });

  it('fail the calls in flight when the thread exits, and start a new thread for the next', async () => {
    // The second call waits behind the first, which ends the thread.
    await Promise.all([
      expect(thread.call('exit', { code: 3 })).rejects.toThrow(
        'the testing thread exited (code 3)',
      ),
      expect(thread.call('wait', { ms: 0, label: 'never' })).rejects.toThrow(
        'the testing thread exited (code 3)',
      ),
    ]);
    await expect(thread.call('wait', { ms: 0, label: 'restarted' })).resolves.toBe('restarted');
  });

  it('start again after close', async () => {
    await thread.close();
    await expect(thread.call('wait', { ms: 0, label: 'again' })).resolves.toBe('again');
  });
});
