import { performance } from 'node:perf_hooks';

/** The three steps of a frame loop, for items of type `T` (a frame, or a group of frames). */
export interface FrameSteps<T, R> {
  /** The next item, read and made ready for the model, or undefined at the end. */
  read(): Promise<T | undefined>;
  /** The model's run on an item. */
  infer(item: T): Promise<R>;
  /** Hands an item and its model result on (to the encoder); called in reading order. */
  write(item: T, result: R): Promise<void>;
}

/**
 * Runs a frame loop: up to `inFlight` model runs at once (one per inference lane), the next
 * item read while they work, and each item written in reading order once its run is done and
 * the previous write has finished, so reading, inference and writing overlap and memory holds
 * at most `inFlight + 2` items whatever the video's length. Returns the items written and the
 * milliseconds during which at least one run was under way.
 *
 * If a step fails, waits for every run and write in flight to settle before rethrowing: a
 * caller that then closes the inference thread (a worker shutting down after an aborted job)
 * must not cut a running inference short. Shared by the frames path and the model-size path.
 */
export async function runOrderedFrames<T, R>(
  steps: FrameSteps<T, R>,
  options: { inFlight: number; signal?: AbortSignal | undefined },
): Promise<{ items: number; inference: number }> {
  const running: Array<{ item: T; result: Promise<R> }> = [];
  let writing: Promise<void> = Promise.resolve();
  let items = 0;
  let inference = 0;
  let runsUnderWay = 0;
  let busySince = 0;
  const infer = async (item: T): Promise<R> => {
    if (runsUnderWay++ === 0) busySince = performance.now();
    try {
      return await steps.infer(item);
    } finally {
      if (--runsUnderWay === 0) inference += performance.now() - busySince;
    }
  };
  try {
    let next = await steps.read();
    while (next !== undefined || running.length > 0) {
      while (next !== undefined && running.length < Math.max(1, options.inFlight)) {
        options.signal?.throwIfAborted();
        const result = infer(next);
        // Awaited in order below; none may reject unobserved while an earlier one is awaited.
        result.catch(() => undefined);
        running.push({ item: next, result });
        next = await steps.read();
      }
      const head = running.shift();
      if (!head) break;
      const result = await head.result;
      await writing;
      writing = steps.write(head.item, result).then(() => {
        items++;
      });
      writing.catch(() => undefined);
    }
    await writing;
  } catch (error) {
    await Promise.allSettled([writing, ...running.map((run) => run.result)]);
    throw error;
  }
  return { items, inference };
}
