import { inject } from 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The Redis the kit's global setup found or started for this run. */
    redisUrl: string;
  }
}

/**
 * The Redis URL the kit's vitest global setup (`@bgremover/test-kit/vitest-setup`) provides to
 * this run's tests; throws, naming the fix, in a package whose vitest config lacks that setup.
 */
export function testRedisUrl(): string {
  const url = inject('redisUrl');
  if (!url) {
    throw new Error(
      'No Redis was provided to this suite: add @bgremover/test-kit/vitest-setup to globalSetup in its vitest.config.ts',
    );
  }
  return url;
}
