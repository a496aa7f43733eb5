import { describe, expect, it } from 'vitest';
import { runOrderedFrames } from '../src/video/frame-loop.js';

/** A promise and the function that settles it. */
function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve: (value: T) => void = () => undefined;
  const promise = new Promise<T>((settle) => {
    resolve = settle;
  });
  return { promise, resolve };
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('runOrderedFrames', () => {
  it('keeps up to inFlight runs going and writes in reading order when runs finish out of order', async () => {
    const runs = new Map<number, ReturnType<typeof deferred<string>>>();
    let underWay = 0;
    let mostUnderWay = 0;
    let nextItem = 0;
    const written: string[] = [];
    const loop = runOrderedFrames(
      {
        read: async () => (nextItem < 6 ? nextItem++ : undefined),
        infer: async (item) => {
          underWay++;
          mostUnderWay = Math.max(mostUnderWay, underWay);
          const run = deferred<string>();
          runs.set(item, run);
          const result = await run.promise;
          underWay--;
          return result;
        },
        write: async (item, result) => {
          written.push(`${item}:${result}`);
        },
      },
      { inFlight: 3 },
    );
    await tick();
    expect([...runs.keys()]).toEqual([0, 1, 2]);
    // The third run finishes first, then the second: nothing is written before the first.
    runs.get(2)?.resolve('c');
    runs.get(1)?.resolve('b');
    await tick();
    expect(written).toEqual([]);
    runs.get(0)?.resolve('a');
    await tick();
    await tick();
    expect(written).toEqual(['0:a', '1:b', '2:c']);
    for (const item of [3, 4, 5]) {
      await tick();
      runs.get(item)?.resolve(String.fromCharCode(97 + item));
    }
    const outcome = await loop;
    expect(written).toEqual(['0:a', '1:b', '2:c', '3:d', '4:e', '5:f']);
    expect(outcome.items).toBe(6);
    expect(mostUnderWay).toBe(3);
  });

  it('waits for the runs in flight before rethrowing a failed run', async () => {
    let nextItem = 0;
    let slowRunEnded = false;
    const failure = runOrderedFrames(
      {
        read: async () => (nextItem < 4 ? nextItem++ : undefined),
        infer: async (item) => {
          if (item === 0) throw new Error('model failed on frame 0');
          await new Promise((resolve) => setTimeout(resolve, 30));
          slowRunEnded = true;
          return item;
        },
        write: async () => undefined,
      },
      { inFlight: 2 },
    );
    await expect(failure).rejects.toThrow('model failed on frame 0');
    expect(slowRunEnded).toBe(true);
  });

  it('stops reading when the signal is aborted', async () => {
    const controller = new AbortController();
    let reads = 0;
    const loop = runOrderedFrames(
      {
        read: async () => {
          reads++;
          if (reads === 3) controller.abort(new Error('job cancelled'));
          return reads;
        },
        infer: async (item) => item,
        write: async () => undefined,
      },
      { inFlight: 1, signal: controller.signal },
    );
    await expect(loop).rejects.toThrow('job cancelled');
    expect(reads).toBeLessThan(5);
  });
});
