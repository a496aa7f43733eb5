/** What a frame loop has running while it reads the next frames. */
export interface InFlight {
  /** The model run under way. */
  model: Promise<unknown>;
  /** The write (or writes) under way. */
  writing: Promise<void>;
}

/**
 * Runs a frame loop (read, infer and write overlapped, keeping `inFlight` current), then waits
 * for the last write. If the loop fails, waits for everything in flight to settle before
 * rethrowing: a caller that then closes the inference thread (a worker shutting down after an
 * aborted job) must not cut a running inference short. Shared by the frames path and the
 * model-size path.
 */
export async function runFrameLoop(loop: (inFlight: InFlight) => Promise<void>): Promise<void> {
  const inFlight: InFlight = { model: Promise.resolve(), writing: Promise.resolve() };
  try {
    await loop(inFlight);
    await inFlight.writing;
  } catch (error) {
    await Promise.allSettled([inFlight.model, inFlight.writing]);
    throw error;
  }
}
