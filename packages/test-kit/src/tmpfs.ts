import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

/** Runs a command (mount, umount, sh) and resolves with its output. */
export const run = promisify(execFile);

/**
 * Whether this process may mount a tmpfs (root or CAP_SYS_ADMIN): storage-fault tests fill one
 * up or make it read-only, and skip, saying why, where they cannot.
 */
export async function canMountTmpfs(): Promise<boolean> {
  const probe = await mkdtemp(join(tmpdir(), 'bgremover-mount-probe-'));
  try {
    await run('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe]);
    await run('umount', [probe]);
    return true;
  } catch {
    return false;
  } finally {
    await rm(probe, { recursive: true, force: true });
  }
}

/** Mounts a tmpfs of `size` (e.g. `2m`) over `dir`. */
export async function mountTmpfs(dir: string, size: string): Promise<void> {
  await run('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
}

/** Fills what is left of the volume holding `dir` with a file `name`; returns its path. */
export async function fillVolume(dir: string, name = 'filler'): Promise<string> {
  const path = join(dir, name);
  await run('sh', ['-c', `dd if=/dev/zero of='${path}' bs=64k 2>/dev/null || true`]);
  return path;
}

/** Remounts a tmpfs read-only (`false`) or writable (`true`). */
export async function setWritable(dir: string, writable: boolean): Promise<void> {
  await run('mount', ['-o', `remount,${writable ? 'rw' : 'ro'}`, dir]);
}

/** Unmounts (lazily, so open handles do not stop it); never throws. */
export async function unmount(dir: string): Promise<void> {
  await run('umount', ['-l', dir]).catch(() => undefined);
}
