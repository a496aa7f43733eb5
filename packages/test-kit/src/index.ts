/**
 * The test kit's light part (no chat stand-ins, no mounts): Redis, queue names, the stack and
 * worker-process harness, waitFor and the clip maker. The rest are subpaths:
 * `@bgremover/test-kit/discord/stand-in`, `/slack/stand-in`, `/slack/signed-requests`,
 * `/redis-server`, `/tmpfs`, `/redis` (`ensureRedis` alone, for scripts run outside vitest such
 * as the benchmarks), and `/vitest-setup` for vitest's `globalSetup`.
 */
export { type LavfiClipOptions, makeLavfiClip } from './lavfi-clip.js';
export { freshQueueName } from './queue-names.js';
export { DEFAULT_REDIS_URL, type EnsuredRedis, ensureRedis, redisAnswers } from './redis.js';
export { testRedisUrl } from './redis-url.js';
export { obliterateQueue, openTestStack, type TestStack, type TestStackOptions } from './stack.js';
export { type Probe, type WaitForOptions, waitFor } from './wait-for.js';
export {
  spawnWorkerProcess,
  type WorkerProcess,
  type WorkerReadyMessage,
} from './worker-process.js';
