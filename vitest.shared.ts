import { defineConfig } from 'vitest/config';

/**
 * The vitest settings every package uses (each package's vitest.config.ts re-exports this):
 * sources resolved through the `source` export condition, real components and generous timeouts.
 */
export default defineConfig({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'] } },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // One model load per file; files run in separate processes, two at a time on two cores.
    pool: 'forks',
    maxWorkers: 2,
  },
});
