import { appKey } from '@bgremover/jobs';
import type { Redis } from 'ioredis';

export interface JobLimitSettings {
  /** Jobs one person may start per window; 0 means no limit. */
  userJobLimit: number;
  /** Jobs one server may start per window; 0 means no limit. */
  guildJobLimit: number;
  windowSeconds: number;
  /** Key namespace (the queue name, so separate deployments on one Redis do not mix). */
  prefix: string;
}

export type LimitOutcome = { ok: true } | { ok: false; problem: string };

// Counts in fixed windows that start with a person's (or server's) first job. Both counters are
// checked before either is raised, in one script, so a refused request costs nothing.
const TAKE_SCRIPT = `
redis.call('SET', KEYS[1], 0, 'EX', ARGV[3], 'NX')
redis.call('SET', KEYS[2], 0, 'EX', ARGV[3], 'NX')
local n = tonumber(ARGV[4])
local user = tonumber(redis.call('GET', KEYS[1]))
local guild = tonumber(redis.call('GET', KEYS[2]))
if tonumber(ARGV[1]) > 0 and user + n > tonumber(ARGV[1]) then
  return {1, redis.call('TTL', KEYS[1]), user}
end
if tonumber(ARGV[2]) > 0 and guild + n > tonumber(ARGV[2]) then
  return {2, redis.call('TTL', KEYS[2]), guild}
end
redis.call('INCRBY', KEYS[1], n)
redis.call('INCRBY', KEYS[2], n)
return {0, 0, 0}
`;

/**
 * Takes `jobs` from the person's and the server's allowance, or refuses (taking nothing) with a
 * message saying which limit was reached and when it resets.
 */
export async function takeJobAllowance(
  redis: Redis,
  settings: JobLimitSettings,
  who: { userId: string; guildId: string | undefined },
  jobs: number,
): Promise<LimitOutcome> {
  const base = appKey(settings.prefix, 'discord', 'jobs');
  const result = (await redis.eval(
    TAKE_SCRIPT,
    2,
    `${base}:user:${who.userId}`,
    `${base}:guild:${who.guildId ?? 'direct'}`,
    settings.userJobLimit,
    settings.guildJobLimit,
    settings.windowSeconds,
    jobs,
  )) as [number, number, number];
  const [refusedBy, ttl, used] = result;
  if (refusedBy === 0) return { ok: true };
  const limit = refusedBy === 1 ? settings.userJobLimit : settings.guildJobLimit;
  const subject = refusedBy === 1 ? 'you may start' : 'this server may start';
  const asked = jobs > 1 ? `this would start ${jobs} jobs; ` : '';
  return {
    ok: false,
    problem: `${asked}${subject} ${limit} per ${waitText(settings.windowSeconds)} and ${refusedBy === 1 ? 'have' : 'has'} ${Math.max(0, limit - used)} left; try again in ${waitText(ttl)}`,
  };
}

function waitText(seconds: number): string {
  if (seconds < 90) return `${Math.max(1, seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 3600)} h`;
}
