import { describe, expect, it } from 'vitest';
import { waitFor } from '../src/wait-for.js';

describe('waitFor', () => {
  it('returns the first truthy value the probe gives', async () => {
    let calls = 0;
    const value = await waitFor(() => (++calls >= 3 ? { calls } : undefined), { intervalMs: 1 });
    expect(value).toEqual({ calls: 3 });
  });

  it('throws after the timeout, naming what it waited for as it stands then', async () => {
    let seen = 0;
    await expect(
      waitFor(
        () => {
          seen++;
          return false;
        },
        { timeoutMs: 30, intervalMs: 5, what: () => `a miracle (${seen > 1 ? 'polled' : 'once'})` },
      ),
    ).rejects.toThrow(/^timed out after 30 ms waiting for a miracle \(polled\)$/);
  });
});
