import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';

/**
 * Counts, inside Redis in one step, the jobs that will run before the earliest of the given
 * jobs. BullMQ's workers take the wait list first (from its right end), then the prioritized set
 * in score order (priority, then arrival); running jobs are ahead of everything. A job waiting
 * out a retry delay is placed after everything already queued. Returns -1 when none of the jobs
 * is queued any more (running, finished or unknown).
 *
 * KEYS: wait, prioritized, active, delayed. ARGV: job ids.
 */
const JOBS_AHEAD_SCRIPT = `
local waiting = redis.call('LLEN', KEYS[1])
local best = false
for _, id in ipairs(ARGV) do
  local ahead = false
  local rank = redis.call('ZRANK', KEYS[2], id)
  if rank then
    ahead = waiting + rank
  else
    local index = redis.call('LPOS', KEYS[1], id)
    if index then
      ahead = waiting - 1 - index
    elseif redis.call('ZSCORE', KEYS[4], id) then
      ahead = waiting + redis.call('ZCARD', KEYS[2])
    end
  end
  if ahead and ((not best) or ahead < best) then best = ahead end
end
if not best then return -1 end
return best + redis.call('LLEN', KEYS[3])
`;

/**
 * How many jobs will run before the first of `jobIds` to be picked up: the running jobs plus the
 * queued ones ahead of it in the order BullMQ's workers take them. Undefined when none of them is
 * still queued (one is running, or all have ended). One round trip on `redis`, which must be
 * a connection to the queue's Redis.
 */
export async function jobsAheadOf(
  redis: Redis,
  queue: Queue,
  jobIds: readonly string[],
): Promise<number | undefined> {
  if (jobIds.length === 0) return undefined;
  const { wait, prioritized, active, delayed } = queue.keys;
  if (!wait || !prioritized || !active || !delayed) {
    throw new Error('BullMQ queue keys are missing wait, prioritized, active or delayed');
  }
  const ahead = Number(
    await redis.eval(JOBS_AHEAD_SCRIPT, 4, wait, prioritized, active, delayed, ...jobIds),
  );
  return ahead < 0 ? undefined : ahead;
}
