import { mergeConfig } from 'vitest/config';
import shared from '../../vitest.shared.js';

// The kit's global setup finds or starts a Redis and provides its URL (testRedisUrl()).
export default mergeConfig(shared, {
  test: { globalSetup: ['@bgremover/test-kit/vitest-setup'] },
});
