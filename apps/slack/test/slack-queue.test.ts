/**
 * Delivery through the app's own delivery worker, with the conversion worker started late, so
 * that a job can wait in a long queue: a picture shows its place in the queue, and "done" is
 * said only once the upload went through.
 */

import { CONVERSION_JOB_NAME, type ConversionJobData } from '@bgremover/jobs';
import {
  BOT_USER_ID,
  type RecordedCall,
  type SlackStandIn,
  startSlackStandIn,
} from '@bgremover/test-kit/slack/stand-in';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { slackPeople } from './payloads.js';
import { BOT_TOKEN, type SlackStack, smallPhoto, startSlackStack } from './stack.js';

const PERSON = 'U0PERSON';

let standIn: SlackStandIn;
let stack: SlackStack | undefined;

beforeAll(async () => {
  standIn = await startSlackStandIn(BOT_TOKEN);
});

afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

afterAll(async () => {
  await standIn?.close();
});

/** Two jobs queued before ours (never run: they are removed before the worker starts). */
async function fillQueue(current: SlackStack): Promise<string[]> {
  const ids = ['blocker-1', 'blocker-2'];
  const data: ConversionJobData = {
    version: 1,
    mediaKind: 'image',
    params: {},
    input: { kind: 'storage', key: 'inputs/none/0-none.png', filename: 'none.png' },
    target: { kind: 'api', requestId: 'none', fileIndex: 0 },
    requestedAt: Date.now(),
  };
  for (const jobId of ids)
    await current.queue.add(CONVERSION_JOB_NAME, data, { jobId, priority: 1 });
  return ids;
}

/** Reacts to a fresh photo message in `channel` and waits for its queue-position message. */
async function reactInLongQueue(current: SlackStack, channel: string, name: string) {
  const people = slackPeople(standIn, () => current.eventsUrl);
  const blockers = await fillQueue(current);
  const file = standIn.addFile(name, 'image/png', await smallPhoto());
  const ts = standIn.nextTs();
  standIn.addMessage(channel, { ts, files: [file] });
  await people.reaction(ts, { channel, user: PERSON });
  const queued = await standIn.waitForCall(
    'chat.postMessage',
    (c) => c.params.thread_ts === ts && String(c.params.text).includes('waiting in the queue'),
  );
  for (const id of blockers) await current.queue.remove(id);
  return { ts, queued, progressTs: String(queued.answer.ts) };
}

const editsOf = (ts: string) => standIn.callsTo('chat.update').filter((c) => c.params.ts === ts);

describe('Slack: a picture in a long queue', () => {
  it('shows its place in the queue, then its progress in that message, and done after the upload', async () => {
    stack = await startSlackStack(standIn, { worker: false, queueNoticeAhead: 2 });
    const { ts, queued, progressTs } = await reactInLongQueue(stack, 'C0BUSY', 'queued.png');
    expect(queued.params.text).toBe(
      ':hourglass: queued.png: waiting in the queue, 2 jobs ahead of it…',
    );
    await stack.startWorker();
    const done = await standIn.waitForCall(
      'chat.update',
      (c) => c.params.ts === progressTs && String(c.params.text).startsWith(':white_check_mark:'),
    );
    const upload = standIn.calls.find(
      (c: RecordedCall) => c.method === 'files.completeUploadExternal' && c.params.thread_ts === ts,
    );
    expect(upload?.answer.ok).toBe(true);
    expect(standIn.calls.indexOf(done)).toBeGreaterThan(
      standIn.calls.indexOf(upload as RecordedCall),
    );
    // One message for the whole job: the queue position, then progress edits, then done.
    expect(
      standIn.callsTo('chat.postMessage').filter((c) => c.params.thread_ts === ts),
    ).toHaveLength(1);
    await standIn.waitForCall(
      'reactions.add',
      (c) => c.params.timestamp === ts && c.params.name === 'white_check_mark',
    );
  });

  it('never says done when the upload fails: the message ends with ❌ and the reason', async () => {
    stack = await startSlackStack(standIn, { worker: false, queueNoticeAhead: 2 });
    const { ts, progressTs } = await reactInLongQueue(stack, 'C0KICKED', 'kicked.png');
    // Someone removes the bot from the channel while the picture waits.
    standIn.setMember('C0KICKED', BOT_USER_ID, false);
    await stack.startWorker();
    const failed = await standIn.waitForCall(
      'chat.update',
      (c) => c.params.ts === progressTs && String(c.params.text).startsWith(':x:'),
    );
    expect(String(failed.params.text)).toMatch(
      /could not post the result for kicked\.png: I am no longer in that conversation/,
    );
    const refused = standIn
      .callsTo('files.completeUploadExternal')
      .filter((c) => c.params.thread_ts === ts);
    expect(refused.map((c) => c.answer.error)).toEqual(['not_in_channel']);
    expect(
      editsOf(progressTs).filter((c) => String(c.params.text).includes('white_check_mark')),
    ).toEqual([]);
  });
});
