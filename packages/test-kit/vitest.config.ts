import { mergeConfig } from 'vitest/config';
import shared from '../../vitest.shared.js';

// The kit tests its own global setup: the stack tests use the Redis it provides.
export default mergeConfig(shared, {
  test: { globalSetup: ['./src/vitest-setup.ts'] },
});
