import { randomUUID } from 'node:crypto';
import {
  type ConversionJobData,
  type DeliveryJobData,
  enqueueConversion,
  openDeliveryQueue,
} from '@bgremover/jobs';
import { waitFor } from '@bgremover/test-kit';
import type { Queue } from 'bullmq';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { loadWorkerConfig } from '../src/config.js';
import { type RunningWorker, startConversionWorker } from '../src/worker.js';
import { smallPhoto } from './fixtures.js';
import { freshQueue, type TestQueue } from './harness.js';

let testQueue: TestQueue | undefined;
let running: RunningWorker | undefined;
const queues: Queue<DeliveryJobData>[] = [];

afterEach(async () => {
  await running?.close();
  running = undefined;
  for (const queue of queues.splice(0)) {
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
  }
  await testQueue?.close();
  testQueue = undefined;
});

/** A worker with no chat token at all, on a fresh queue. */
async function startTokenlessWorker(): Promise<TestQueue> {
  testQueue = await freshQueue({ DISCORD_TOKEN: '', SLACK_BOT_TOKEN: '' });
  running = await startConversionWorker(loadWorkerConfig(testQueue.env));
  return testQueue;
}

function deliveryQueue(q: TestQueue, platform: 'discord' | 'slack'): Queue<DeliveryJobData> {
  const queue = openDeliveryQueue(q.env.REDIS_URL ?? '', q.name, platform);
  queues.push(queue);
  return queue;
}

/** Stores `bytes` as a chat upload named `filename` and enqueues its conversion for `target`. */
async function enqueueChatFile(
  q: TestQueue,
  filename: string,
  bytes: Buffer,
  target: ConversionJobData['target'],
): Promise<string> {
  const key = `inputs/chat-${randomUUID()}/0-${filename}`;
  await q.storage.put(key, bytes, 'image/png');
  return enqueueConversion(
    q.queue,
    {
      version: 1,
      mediaKind: 'image',
      params: { model: 'u2netp' },
      input: { kind: 'storage', key, filename },
      target,
      requestedAt: Date.now(),
    },
    `${target.kind}-${randomUUID()}`,
  );
}

describe('chat outcomes are handed to the chat apps, not delivered by the worker', () => {
  it('puts a finished Discord job on the discord delivery queue with its stored result', async () => {
    const q = await startTokenlessWorker();
    const discord = deliveryQueue(q, 'discord');
    const slack = deliveryQueue(q, 'slack');
    const jobId = await enqueueChatFile(q, 'cup.png', await smallPhoto(), {
      kind: 'discord',
      channelId: '42',
      filename: 'cup.png',
    });

    const delivery = await waitFor(async () => discord.getJob(jobId));
    expect(delivery.data).toMatchObject({
      version: 1,
      conversionJobId: jobId,
      target: { kind: 'discord', channelId: '42' },
      outcome: { kind: 'result', filename: 'cup_processed.png', contentType: 'image/png' },
    });
    if (delivery.data.outcome.kind !== 'result') throw new Error('expected a result');
    // The reference points at the real result: a cut-out with clear and opaque pixels.
    const stored = await q.storage.read(delivery.data.outcome.resultKey);
    const chunks: Buffer[] = [];
    for await (const chunk of stored) chunks.push(chunk as Buffer);
    const { data, info } = await sharp(Buffer.concat(chunks))
      .raw()
      .toBuffer({ resolveWithObject: true });
    expect(info.channels).toBe(4);
    let clear = 0;
    let opaque = 0;
    for (let i = 3; i < data.length; i += 4) {
      if ((data[i] ?? 0) < 16) clear++;
      else if ((data[i] ?? 0) > 240) opaque++;
    }
    expect(clear).toBeGreaterThan(info.width * info.height * 0.1);
    expect(opaque).toBeGreaterThan(info.width * info.height * 0.05);
    expect(delivery.data.outcome.bytes).toBe(Buffer.concat(chunks).length);
    // The conversion job completed without any chat call, and nothing went to Slack's queue.
    await waitFor(async () => (await q.queue.getJob(jobId))?.finishedOn);
    expect(await slack.getJobCounts('waiting', 'active', 'completed', 'failed')).toEqual({
      waiting: 0,
      active: 0,
      completed: 0,
      failed: 0,
    });
  });

  it('hands a refused input to the slack delivery queue as a failure, once', async () => {
    const q = await startTokenlessWorker();
    const slack = deliveryQueue(q, 'slack');
    const jobId = await enqueueChatFile(q, 'notes.png', Buffer.from('not a picture at all'), {
      kind: 'slack',
      channel: 'C1',
      threadTs: '1.2',
      filename: 'notes.png',
    });
    const delivery = await waitFor(async () => slack.getJob(jobId));
    expect(delivery.data.outcome.kind).toBe('failure');
    if (delivery.data.outcome.kind !== 'failure') throw new Error('expected a failure');
    expect(delivery.data.outcome.message).toMatch(/^The file is not an image/);
    const conversion = await waitFor(async () => {
      const job = await q.queue.getJob(jobId);
      return job?.finishedOn ? job : undefined;
    });
    // Bad input is not retried, and the hand-off happened exactly once.
    expect(conversion.attemptsMade).toBe(1);
    expect((await slack.getJobs(['waiting', 'active', 'completed', 'failed'])).length).toBe(1);
  });
});
