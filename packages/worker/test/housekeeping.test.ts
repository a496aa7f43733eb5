import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalStorage } from '@bgremover/jobs';
import { waitFor } from '@bgremover/test-kit';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  removeStaleScratchFolders,
  startHousekeeping,
  sweepIntervalMs,
} from '../src/housekeeping.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'bgremover-housekeeping-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

/** The pid of a process that has exited (so no live process has it, for now). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid ?? 0;
}

describe('housekeeping', () => {
  it('removes the scratch folders of dead workers and very old ones, never a live worker’s', async () => {
    const scratch = join(root, 'tmp');
    await mkdir(scratch);
    const dead = await deadPid();
    const deadFolder = join(scratch, `bgremover-job-${dead}-abc`);
    const liveFolder = join(scratch, `bgremover-job-${process.pid}-def`);
    const ancientFolder = join(scratch, `bgremover-job-${process.pid}-old`);
    const unrelated = join(scratch, 'something-else');
    for (const folder of [deadFolder, liveFolder, ancientFolder, unrelated]) {
      await mkdir(folder);
      await writeFile(join(folder, 'input-clip.mp4'), 'bytes');
    }
    const twoDaysAgo = new Date(Date.now() - 48 * 3600_000);
    await utimes(ancientFolder, twoDaysAgo, twoDaysAgo);

    expect(await removeStaleScratchFolders(scratch)).toBe(2);
    expect((await readdir(scratch)).sort()).toEqual(
      [`bgremover-job-${process.pid}-def`, 'something-else'].sort(),
    );
  });

  it('sweeps expired storage at start-up, not only after the first period', async () => {
    const storage = new LocalStorage(join(root, 'storage'));
    await storage.put('results/job-1/old.png', Buffer.from('x'), 'image/png');
    await storage.put('inputs/req-1/0-old.png', Buffer.from('x'), 'image/png');
    const hourAgo = new Date(Date.now() - 3600_000);
    for (const key of ['results/job-1/old.png', 'inputs/req-1/0-old.png']) {
      await utimes(join(root, 'storage', key), hourAgo, hourAgo);
    }
    const stop = startHousekeeping({
      storage,
      resultTtlMs: 60_000,
      logger: pino({ level: 'silent' }),
      scratchRoot: join(root, 'tmp'),
    });
    try {
      await waitFor(async () => (await storage.stat('results/job-1/old.png')) === undefined);
      await waitFor(async () => (await storage.stat('inputs/req-1/0-old.png')) === undefined);
    } finally {
      stop();
    }
  });

  it('sweeps at a quarter of the retention, between one and ten minutes', () => {
    expect(sweepIntervalMs(24 * 3600_000)).toBe(600_000);
    expect(sweepIntervalMs(20 * 60_000)).toBe(300_000);
    expect(sweepIntervalMs(60_000)).toBe(60_000);
  });
});
