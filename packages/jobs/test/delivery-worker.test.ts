import { freshQueueName, testRedisUrl, waitFor } from '@bgremover/test-kit';
import type { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type ConversionJobData,
  type DeliveryHandlers,
  type DeliveryJobData,
  enqueueConversion,
  enqueueDelivery,
  type JobProgress,
  openConversionQueue,
  openDeliveryQueue,
  PermanentDeliveryError,
  type RunningDeliveryWorker,
  startDeliveryWorker,
} from '../src/index.js';

const REDIS_URL = testRedisUrl();
const cleanups: (() => Promise<void>)[] = [];
const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function freshQueues() {
  const name = freshQueueName('delivery');
  const conversions = openConversionQueue(REDIS_URL, name);
  const deliveries = openDeliveryQueue(REDIS_URL, name, 'discord');
  cleanups.push(async () => {
    for (const queue of [conversions, deliveries] as Queue[]) {
      await queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close();
    }
  });
  return { name, conversions, deliveries };
}

function delivery(jobId: string, message = 'nope'): DeliveryJobData {
  return {
    version: 1,
    conversionJobId: jobId,
    target: { kind: 'discord', channelId: '1' },
    outcome: { kind: 'failure', message },
    finishedAt: Date.now(),
  };
}

/** A delivery worker for Discord on the conversion queue `name`, closed after the test. */
async function startWorker(
  name: string,
  handlers: DeliveryHandlers<'discord'>,
): Promise<RunningDeliveryWorker> {
  const running = await startDeliveryWorker({
    redisUrl: REDIS_URL,
    conversionQueueName: name,
    platform: 'discord',
    logger: silent,
    handlers,
  });
  cleanups.push(() => running.close());
  return running;
}

describe('startDeliveryWorker', () => {
  it('retries a failing delivery with backoff and never the conversion', async () => {
    const { name, deliveries } = freshQueues();
    const attempts: number[] = [];
    await startWorker(name, {
      deliver: async (_data, attempt) => {
        attempts.push(attempt);
        if (attempt < 3) throw new Error('Discord answered 502');
      },
    });
    await deliveries.add('deliver', delivery('job-1'), {
      jobId: 'job-1',
      attempts: 5,
      backoff: { type: 'fixed', delay: 50 },
    });
    await waitFor(
      async () => (await (await deliveries.getJob('job-1'))?.getState()) === 'completed',
    );
    expect(attempts).toEqual([1, 2, 3]);
  });

  it('stops at a permanent error and reports it once, without retrying', async () => {
    const { name, deliveries } = freshQueues();
    let calls = 0;
    const gaveUp: string[] = [];
    await startWorker(name, {
      deliver: async () => {
        calls++;
        throw new PermanentDeliveryError('Missing Permissions', 50013);
      },
      onGaveUp: async (data, error) => {
        gaveUp.push(`${data.conversionJobId}: ${error.message}`);
      },
    });
    await enqueueDelivery(deliveries, delivery('job-2'), 60_000);
    await waitFor(() => gaveUp.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(calls).toBe(1);
    expect(gaveUp).toEqual(['job-2: Missing Permissions']);
    expect(await (await deliveries.getJob('job-2'))?.getState()).toBe('failed');
  });

  it('hands off once per conversion job: a second enqueue of the same job is ignored', async () => {
    const { deliveries } = freshQueues();
    await enqueueDelivery(deliveries, delivery('job-3', 'first'), 60_000);
    await enqueueDelivery(deliveries, delivery('job-3', 'second'), 60_000);
    const jobs = await deliveries.getJobs(['waiting']);
    expect(jobs.map((job) => job.data.outcome)).toEqual([{ kind: 'failure', message: 'first' }]);
  });

  it('refuses an API target: those are answered by the worker', async () => {
    const { deliveries } = freshQueues();
    await expect(
      enqueueDelivery(
        deliveries,
        {
          ...delivery('job-4'),
          // Not allowed by the type either; a producer that forces it is refused at run time.
          target: {
            kind: 'api',
            requestId: 'r',
            fileIndex: 0,
          } as unknown as DeliveryJobData['target'],
        },
        60_000,
      ),
    ).rejects.toThrow(/answered by the worker/);
  });

  it("forwards this platform's progress, and none once the delivery has started", async () => {
    const { name, conversions, deliveries } = freshQueues();
    const seen: { jobId: string; progress: JobProgress }[] = [];
    await startWorker(name, {
      deliver: async () => undefined,
      progress: async (_target, progress, jobId) => {
        seen.push({ jobId, progress });
      },
    });
    const base: Omit<ConversionJobData, 'target'> = {
      version: 1,
      mediaKind: 'video',
      params: {},
      input: { kind: 'storage', key: 'inputs/x/0-a.mp4', filename: 'a.mp4' },
      requestedAt: Date.now(),
    };
    const discordJob = await enqueueConversion(
      conversions,
      { ...base, target: { kind: 'discord', channelId: '1' } },
      'discord-job',
    );
    const slackJob = await enqueueConversion(
      conversions,
      { ...base, target: { kind: 'slack', channel: 'C', threadTs: '1.1' } },
      'slack-job',
    );
    // Progress as a conversion worker reports it.
    const frames = { stage: 'processing', percent: 40, framesDone: 4, framesTotal: 10 } as const;
    for (const id of [slackJob, discordJob]) {
      const job = await conversions.getJob(id);
      await job?.updateProgress(frames);
      await job?.updateProgress({ not: 'ours' });
    }
    await waitFor(() => seen.length === 1);
    expect(seen).toEqual([{ jobId: discordJob, progress: frames }]);

    await enqueueDelivery(deliveries, delivery(discordJob), 60_000);
    await waitFor(async () => (await deliveries.getJob(discordJob))?.finishedOn !== undefined);
    await (await conversions.getJob(discordJob))?.updateProgress({ ...frames, framesDone: 9 });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(seen).toHaveLength(1);
  });

  it("shows each job's progress from one replica of the app only", async () => {
    const { name, conversions } = freshQueues();
    const seenBy: Record<string, string[]> = { first: [], second: [] };
    for (const replica of ['first', 'second'] as const) {
      await startWorker(name, {
        deliver: async () => undefined,
        progress: async (_target, _progress, jobId) => {
          seenBy[replica]?.push(jobId);
        },
      });
    }
    const ids: string[] = [];
    for (const n of [1, 2, 3, 4]) {
      ids.push(
        await enqueueConversion(
          conversions,
          {
            version: 1,
            mediaKind: 'video',
            params: {},
            input: { kind: 'storage', key: `inputs/x/${n}-a.mp4`, filename: 'a.mp4' },
            target: { kind: 'discord', channelId: '1' },
            requestedAt: Date.now(),
          },
          `replica-job-${n}`,
        ),
      );
    }
    for (const frame of [1, 2, 3]) {
      for (const id of ids) {
        await (await conversions.getJob(id))?.updateProgress({
          stage: 'processing',
          percent: 10 * frame,
          framesDone: frame,
          framesTotal: 3,
        });
      }
    }
    await waitFor(() => (seenBy.first?.length ?? 0) + (seenBy.second?.length ?? 0) === 12);
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Every report is shown once, and all of one job's reports by the same replica.
    expect((seenBy.first?.length ?? 0) + (seenBy.second?.length ?? 0)).toBe(12);
    for (const id of ids) {
      const owners = Object.entries(seenBy).filter(([, jobs]) => jobs.includes(id));
      expect(owners).toHaveLength(1);
      expect(owners[0]?.[1].filter((job) => job === id)).toHaveLength(3);
    }
  });
});
