/** What a probe gives back: a value once the condition holds, a falsy one until then. */
export type Probe<T> = () => Promise<T | undefined | null | false> | T | undefined | null | false;

/**
 * Polls `probe` every `intervalMs` until it gives a truthy value and returns that value; throws
 * after `timeoutMs`, naming `what` it waited for.
 */
export async function waitFor<T>(
  probe: Probe<T>,
  timeoutMs = 60_000,
  intervalMs = 100,
  what = 'a condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
