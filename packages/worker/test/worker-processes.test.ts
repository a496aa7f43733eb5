import { waitFor } from '@bgremover/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import { largePhoto, smallPhoto } from './fixtures.js';
import {
  type ChildWorker,
  completedJob,
  freshQueue,
  spawnWorker,
  submitApiRequest,
  type TestQueue,
} from './harness.js';

let testQueue: TestQueue | undefined;
const children: ChildWorker[] = [];

afterEach(async () => {
  for (const worker of children.splice(0)) {
    if (worker.child.exitCode === null) worker.child.kill('SIGKILL');
    await worker.exited;
  }
  await testQueue?.close();
  testQueue = undefined;
});

async function start(env: NodeJS.ProcessEnv, id: string): Promise<ChildWorker> {
  const worker = await spawnWorker(env, id);
  children.push(worker);
  return worker;
}

/** Counts the 'completed' events QueueEvents reports per job id. */
function countCompletions(q: TestQueue): Map<string, number> {
  const completions = new Map<string, number>();
  q.events.on('completed', ({ jobId }) =>
    completions.set(jobId, (completions.get(jobId) ?? 0) + 1),
  );
  return completions;
}

describe('worker processes (real Redis, real model, child processes)', () => {
  it('recovers a job whose worker was killed with SIGKILL mid-job; it completes exactly once', async () => {
    testQueue = await freshQueue();
    const q = testQueue;
    const completions = countCompletions(q);
    const doomed = await start(q.env, 'doomed');
    const { requestId, jobIds } = await submitApiRequest(q, [
      { filename: 'big.jpg', bytes: await largePhoto() },
    ]);
    const jobId = jobIds[0]!;
    // Kill the worker as soon as it reports that it is running the model on this job.
    await new Promise<void>((resolve) => {
      q.events.on('progress', ({ jobId: id, data }) => {
        if (id === jobId && (data as { stage?: string }).stage === 'processing') resolve();
      });
    });
    doomed.child.kill('SIGKILL');
    expect(await doomed.exited).toBeNull();
    expect(await q.queue.getJobState(jobId)).toBe('active');

    const rescuer = await start(q.env, 'rescuer');
    const record = await waitFor(async () => {
      const current = await q.requests.get(requestId);
      return current?.finished ? current : undefined;
    }, 120_000);
    expect(record.files[0]?.state).toBe('done');
    const job = await completedJob(q, jobId);
    expect(job.returnvalue.worker).toBe('rescuer');
    await waitFor(async () => completions.get(jobId) === 1);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(completions.get(jobId)).toBe(1);
    expect(await q.queue.getJobCounts('completed', 'failed', 'active', 'waiting')).toEqual({
      completed: 1,
      failed: 0,
      active: 0,
      waiting: 0,
    });
    void rescuer;
  }, 180_000);

  it('shuts down on SIGTERM after finishing its job; queued jobs stay for another worker', async () => {
    testQueue = await freshQueue({ WORKER_CONCURRENCY: '1' });
    const q = testQueue;
    const first = await start(q.env, 'first');
    const { requestId, jobIds } = await submitApiRequest(q, [
      { filename: 'big.jpg', bytes: await largePhoto() },
      { filename: 'two.png', bytes: await smallPhoto('chelsea.png') },
      { filename: 'three.png', bytes: await smallPhoto('coffee.png') },
    ]);
    await waitFor(async () => (await q.queue.getJobState(jobIds[0]!)) === 'active');
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(first.output()).toContain('shutting down');
    const afterShutdown = await q.queue.getJob(jobIds[0]!);
    expect(afterShutdown?.returnvalue?.worker).toBe('first');

    await start(q.env, 'second');
    const record = await waitFor(async () => {
      const current = await q.requests.get(requestId);
      return current?.finished ? current : undefined;
    }, 120_000);
    expect(record.files.map((file) => file.state)).toEqual(['done', 'done', 'done']);
    const workers = await Promise.all(
      jobIds.map(async (id) => (await completedJob(q, id)).returnvalue.worker),
    );
    expect(workers[0]).toBe('first');
    expect(workers.slice(1)).toEqual(['second', 'second']);
  }, 180_000);

  it('shares one queue between two workers', async () => {
    testQueue = await freshQueue();
    const q = testQueue;
    await Promise.all([start(q.env, 'alpha'), start(q.env, 'beta')]);
    const photo = await smallPhoto('coffee.png', 120);
    const { requestId, jobIds } = await submitApiRequest(
      q,
      Array.from({ length: 8 }, (_, index) => ({ filename: `p${index}.png`, bytes: photo })),
    );
    const record = await waitFor(async () => {
      const current = await q.requests.get(requestId);
      return current?.finished ? current : undefined;
    }, 120_000);
    expect(record.files.every((file) => file.state === 'done')).toBe(true);
    const byWorker = new Map<string, number>();
    for (const id of jobIds) {
      const { worker } = (await completedJob(q, id)).returnvalue;
      byWorker.set(worker, (byWorker.get(worker) ?? 0) + 1);
    }
    expect([...byWorker.keys()].sort()).toEqual(['alpha', 'beta']);
  }, 180_000);
});
