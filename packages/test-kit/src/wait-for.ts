/** What a probe gives back: a value once the condition holds, a falsy one until then. */
export type Probe<T> = () => Promise<T | undefined | null | false> | T | undefined | null | false;

/** How long and how often `waitFor` polls. */
export interface WaitForOptions {
  /** Gives up after this long (60 s unless given). */
  timeoutMs?: number;
  /** Polls this often (100 ms unless given). */
  intervalMs?: number;
  /** Names what it waits for in the timeout's message (a function is asked at the timeout). */
  what?: string | (() => string);
}

/**
 * Polls `probe` until it gives a truthy value and returns that value; throws once the timeout
 * (`options`, or its `timeoutMs`; 60 s) has passed, naming what it waited for.
 */
export async function waitFor<T>(
  probe: Probe<T>,
  options: number | WaitForOptions = {},
): Promise<T> {
  const {
    timeoutMs = 60_000,
    intervalMs = 100,
    what = 'a condition',
  } = typeof options === 'number' ? { timeoutMs: options } : options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) {
      const named = typeof what === 'function' ? what() : what;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${named}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
