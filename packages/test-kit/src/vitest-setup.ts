/**
 * A vitest global setup: finds or starts a Redis (`ensureRedis`), provides its URL to the tests
 * (`testRedisUrl()`), sets `REDIS_URL` for processes they start, and stops a server it started
 * when the run ends.
 */
import type { TestProject } from 'vitest/node';
import { ensureRedis } from './redis.js';
import './redis-url.js';

/** Runs once per vitest run, before any test file; returns the teardown. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const redis = await ensureRedis();
  project.provide('redisUrl', redis.url);
  process.env.REDIS_URL = redis.url;
  return () => redis.stop();
}
