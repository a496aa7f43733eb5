/**
 * What a worker cleans up besides its jobs: expired results and uploads in storage (with the
 * leftovers of crashed writes), and the scratch folders of workers that died without removing
 * theirs. It runs at start-up (a worker restarted often must still clean) and then periodically.
 */
import { readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Storage } from '@bgremover/jobs';
import type { Logger } from 'pino';

/** Scratch folders are `bgremover-job-<pid>-<random>` in the system's temporary folder. */
export const SCRATCH_PREFIX = 'bgremover-job-';

/** The scratch folder prefix of this process (`mkdtemp` adds the random part). */
export function scratchPrefix(): string {
  return join(tmpdir(), `${SCRATCH_PREFIX}${process.pid}-`);
}

/** A scratch folder this old is stale whoever owns it: no job runs this long. */
const SCRATCH_MAX_AGE_MS = 24 * 3600_000;

export interface HousekeepingOptions {
  storage: Storage;
  /** Results and uploads older than this are deleted. */
  resultTtlMs: number;
  logger: Logger;
  /** Where scratch folders live (the system's temporary folder by default). */
  scratchRoot?: string;
}

/**
 * How often to sweep: a quarter of the retention, between one and ten minutes, so that nothing
 * outlives `RESULT_TTL_HOURS` by more than a quarter of it.
 */
export function sweepIntervalMs(resultTtlMs: number): number {
  return Math.min(10 * 60_000, Math.max(60_000, Math.round(resultTtlMs / 4)));
}

/** Starts the sweeps (the first one now); returns a function that stops them. */
export function startHousekeeping(options: HousekeepingOptions): () => void {
  const sweep = () => {
    const cutoff = new Date(Date.now() - options.resultTtlMs);
    for (const prefix of ['results', 'inputs']) {
      options.storage
        .deleteOlderThan(prefix, cutoff)
        .catch((error: Error) => options.logger.warn({ err: error }, 'expiry failed'));
    }
    removeStaleScratchFolders(options.scratchRoot ?? tmpdir())
      .then((removed) => {
        if (removed > 0) options.logger.info({ removed }, 'removed stale scratch folders');
      })
      .catch((error: Error) => options.logger.warn({ err: error }, 'scratch cleanup failed'));
  };
  sweep();
  const timer = setInterval(sweep, sweepIntervalMs(options.resultTtlMs));
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * Removes the scratch folders of worker processes that no longer run (their pid is gone), and
 * any older than a day (a pid can be reused). Folders of live workers, this one included, are
 * kept. Returns how many were removed.
 */
export async function removeStaleScratchFolders(root: string, now = Date.now()): Promise<number> {
  let removed = 0;
  for (const name of await readdir(root)) {
    const match = new RegExp(`^${SCRATCH_PREFIX}(\\d+)-`).exec(name);
    if (!match) continue;
    const path = join(root, name);
    const info = await stat(path).catch(() => undefined);
    if (!info?.isDirectory()) continue;
    if (processAlive(Number(match[1])) && now - info.mtimeMs < SCRATCH_MAX_AGE_MS) continue;
    await rm(path, { recursive: true, force: true });
    removed++;
  }
  return removed;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
