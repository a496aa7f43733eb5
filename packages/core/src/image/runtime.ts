import sharp from 'sharp';

/**
 * Sets how many libvips threads each sharp operation may use. sharp defaults to one on glibc
 * Linux (to limit heap fragmentation), which makes every resize single-threaded; the pipeline
 * asks for the configured number (the core count by default) and turns libvips' cache off.
 * The setting is global to the process and loading sharp anywhere (another worker thread, say)
 * puts sharp's default back, so it is checked on every call; that costs one native call.
 */
export function useImageThreads(threads: number): void {
  if (sharp.concurrency() === threads) return;
  sharp.concurrency(threads);
  // libvips' operation cache keeps recent results for reuse; every image here is new, so it
  // would only hold memory.
  sharp.cache(false);
}
