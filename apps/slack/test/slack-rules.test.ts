/**
 * The Slack defects of issue 16, each against the stricter stand-in (which refuses what Slack
 * refuses): file visibility for `/removebg <link>`, channels the bot is not in, private notices
 * that must be shown, one job per message and file, files Slack will not give, DMs, App Home.
 */
import { readdir } from 'node:fs/promises';
import { openDeliveryQueue } from '@bgremover/jobs';
import { testRedisUrl } from '@bgremover/test-kit';
import {
  BOT_USER_ID,
  type RecordedCall,
  type SlackStandIn,
} from '@bgremover/test-kit/slack/stand-in';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modalValues, type slackPeople, startSlackSuite } from './payloads.js';
import { jobsForFile, type SlackStack, smallPhoto } from './stack.js';

const REDIS_URL = testRedisUrl();
const PERSON = 'U0PERSON';
const OTHER = 'U0OTHER';
/** A public channel everyone is in; the bot joins it on first use. */
const GENERAL = 'C0GENERAL';

let standIn: SlackStandIn;
let stack: SlackStack;
let people: ReturnType<typeof slackPeople>;

beforeAll(async () => {
  ({ standIn, stack, people } = await startSlackSuite());
});

afterAll(async () => {
  await stack?.close();
  await standIn?.close();
});

/** Every call the stand-in received that mentions `value` in its parameters. */
function callsAbout(value: string): RecordedCall[] {
  return standIn.calls.filter((c) => JSON.stringify(c.params).includes(value));
}

const jobsFor = (fileId: string) => jobsForFile(stack, fileId);

/** Opens the options form on a message with a small photo `name`; returns the form's view. */
async function openOptionsForm(name: string) {
  const file = standIn.addFile(name, 'image/png', await smallPhoto());
  const ts = standIn.nextTs();
  await people.shortcut(
    'remove_background_options',
    { ts, files: [file] },
    { channel: GENERAL, user: PERSON },
  );
  const call = await standIn.waitForCall('views.open', (c) =>
    String(c.params.view).includes(file.id),
  );
  return { ts, opened: JSON.parse(String(call.params.view)) };
}

/** Lets the app finish whatever it would still do for a request. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 1500));

describe('Slack: /removebg <file link> only works on files the person could already see there', () => {
  it('refuses a file shared only in a private channel the caller is not in; nothing is posted or processed', async () => {
    standIn.addChannel('G0SECRET', 'private', [BOT_USER_ID, OTHER]);
    const secret = standIn.addFile('salaries.png', 'image/png', await smallPhoto(), {
      sharedIn: ['G0SECRET'],
      user: OTHER,
    });
    const link = `https://test.slack.com/files/${OTHER}/${secret.id}/salaries.png`;
    const before = standIn.calls.length;
    const response = await people.command(`<${link}>`, { channel: GENERAL, user: PERSON });
    expect(response.status).toBe(200);
    const refusal = await standIn.waitForNotice(PERSON, /shared in this conversation/);
    expect(refusal.via).toBe('response_url');
    await settle();
    const after = standIn.calls.slice(before);
    expect(after.filter((c) => c.method === 'chat.postMessage')).toEqual([]);
    expect(after.filter((c) => c.method.startsWith('files.upload'))).toEqual([]);
    expect(await jobsFor(secret.id)).toEqual([]);
    const stored = await readdir(stack.storageDir, { recursive: true }).catch(() => []);
    expect(stored.map(String).filter((name) => name.includes('salaries'))).toEqual([]);
  });

  it('accepts a file shared in the conversation where the command runs, and tells the person', async () => {
    const shared = standIn.addFile('team.png', 'image/png', await smallPhoto(), {
      sharedIn: [GENERAL],
    });
    await people.command(`<https://test.slack.com/files/U0AUTHOR/${shared.id}/team.png>`, {
      channel: GENERAL,
      user: PERSON,
    });
    const parent = await standIn.waitForCall(
      'chat.postMessage',
      (c) => c.params.channel === GENERAL && String(c.params.text).includes('team.png'),
    );
    await standIn.waitForCall(
      'files.completeUploadExternal',
      (c) => c.params.thread_ts === parent.answer.ts,
    );
    // The summary goes through the command's response_url: shown, although the new thread
    // had no replies yet when it was sent (an ephemeral there would never show).
    const summary = await standIn.waitForNotice(PERSON, /Removing the background from team\.png/);
    expect(summary.via).toBe('response_url');
    expect(standIn.notices.filter((n) => n.user === PERSON && !n.shown)).toEqual([]);
  });
});

describe('Slack: the bot is in the conversation before anything is queued', () => {
  it('joins a public channel it is not in, then uploads the result there', async () => {
    standIn.addChannel('C0NEWCHAN', 'public', [PERSON]);
    const file = standIn.addFile('joined.png', 'image/png', await smallPhoto());
    const ts = standIn.nextTs();
    await people.shortcut(
      'remove_background',
      { ts, files: [file] },
      { channel: 'C0NEWCHAN', user: PERSON },
    );
    const upload = await standIn.waitForCall(
      'files.completeUploadExternal',
      (c) => c.params.thread_ts === ts,
    );
    expect(upload.answer.ok).toBe(true);
    const join = standIn
      .callsTo('conversations.join')
      .find((c) => c.params.channel === 'C0NEWCHAN');
    expect(join?.answer.ok).toBe(true);
  });

  it('refuses at once, with how to invite the bot, in a private channel it is not in', async () => {
    standIn.addChannel('G0PRIVATE', 'private', [PERSON]);
    // Shared in a public channel too: the bot can read it, but could not post the result here.
    const file = standIn.addFile('private.png', 'image/png', await smallPhoto(), {
      sharedIn: ['G0PRIVATE', GENERAL],
    });
    const ts = standIn.nextTs();
    await people.shortcut(
      'remove_background',
      { ts, files: [file] },
      { channel: 'G0PRIVATE', user: PERSON },
    );
    const refusal = await standIn.waitForNotice(PERSON, /\/invite <@UBOT>/);
    expect(refusal.via).toBe('response_url');
    await settle();
    expect(await jobsFor(file.id)).toEqual([]);
    expect(
      callsAbout('G0PRIVATE').filter((c) =>
        ['chat.postMessage', 'files.completeUploadExternal'].includes(c.method),
      ),
    ).toEqual([]);
  });
});

describe('Slack: private notices are shown, and no thread is announced that stays empty', () => {
  it('the options form shows its summary to the person (not an ephemeral into an empty thread)', async () => {
    const { ts, opened } = await openOptionsForm('formed.png');
    // Nothing is posted in the conversation before the form is submitted.
    expect(callsAbout(ts).filter((c) => c.method === 'chat.postMessage')).toEqual([]);
    await people.submitModal(opened, PERSON, modalValues());
    await standIn.waitForCall('files.completeUploadExternal', (c) => c.params.thread_ts === ts);
    const summary = await standIn.waitForNotice(PERSON, /Removing the background from formed\.png/);
    expect(summary.threadTs).toBeUndefined();
    expect(standIn.notices.filter((n) => n.user === PERSON && !n.shown)).toEqual([]);
  });

  it('/removebg with only a file it cannot use opens no thread; the person sees why', async () => {
    const before = standIn.calls.length;
    await people.command('', { channel: GENERAL, user: PERSON });
    const opened = await standIn.waitForCall(
      'views.open',
      (c) => standIn.calls.indexOf(c) >= before && String(c.params.view).includes('file_input'),
    );
    const pdf = standIn.uploadThroughFileInput(
      'notes.pdf',
      'application/pdf',
      Buffer.from('%PDF-1.4\n'),
      PERSON,
    );
    await people.submitModal(
      JSON.parse(String(opened.params.view)),
      PERSON,
      modalValues({ file: { value: { type: 'file_input', files: [pdf] } } }),
    );
    const refusal = await standIn.waitForNotice(PERSON, /notes\.pdf is not a picture or a video/);
    expect(refusal.via).toBe('response_url');
    await settle();
    expect(standIn.calls.slice(before).filter((c) => c.method === 'chat.postMessage')).toEqual([]);
  });

  it('falls back to an ephemeral at the top of the channel once the response_url has expired', async () => {
    const { opened } = await openOptionsForm('slow.png');
    standIn.advanceClock(31 * 60_000); // the person took their time with the form
    await people.submitModal(opened, PERSON, modalValues());
    const summary = await standIn.waitForNotice(PERSON, /Removing the background from slow\.png/);
    expect([summary.via, summary.threadTs]).toEqual(['ephemeral', undefined]);
    expect(standIn.callsTo('response_url').some((c) => c.answer.error === 'expired_url')).toBe(
      true,
    );
  });
});

describe('Slack: each file of a message is processed once', () => {
  it("a second person's reaction, or one removed and added again, starts nothing new", async () => {
    const file = standIn.addFile('popular.png', 'image/png', await smallPhoto());
    const ts = standIn.nextTs();
    standIn.addMessage(GENERAL, { ts, files: [file] });
    await people.reaction(ts, { channel: GENERAL, user: PERSON });
    await standIn.waitForCall('files.completeUploadExternal', (c) => c.params.thread_ts === ts);
    await people.reaction(ts, { channel: GENERAL, user: OTHER });
    await people.reaction(ts, { channel: GENERAL, user: PERSON });
    await standIn.waitForNotice(OTHER, /already processed/);
    await settle();
    expect(await jobsFor(file.id)).toHaveLength(1);
    expect(
      standIn.callsTo('files.completeUploadExternal').filter((c) => c.params.thread_ts === ts),
    ).toHaveLength(1);
  });
});

describe('Slack: delivery is retried from the delivery queue, never by running the model again', () => {
  it('uploads once Slack is back after a 503 and an internal_error', async () => {
    const file = standIn.addFile('outage.png', 'image/png', await smallPhoto());
    const ts = standIn.nextTs();
    standIn.failNext('files.completeUploadExternal', { status: 503 });
    await people.shortcut(
      'remove_background',
      { ts, files: [file] },
      { channel: GENERAL, user: PERSON },
    );
    await standIn.waitForCall(
      'files.completeUploadExternal',
      (c) => c.params.thread_ts === ts && c.answer.status === 503,
    );
    standIn.failNext('files.completeUploadExternal', { error: 'internal_error' });
    const uploaded = await standIn.waitForCall(
      'files.completeUploadExternal',
      (c) => c.params.thread_ts === ts && c.answer.ok === true,
    );
    expect(uploaded.answer.ok).toBe(true);
    const attempts = standIn
      .callsTo('files.completeUploadExternal')
      .filter((c) => c.params.thread_ts === ts)
      .map((c) => c.answer.error ?? c.answer.status ?? 'ok');
    expect(attempts).toEqual([503, 'internal_error', 'ok']);
    const [job] = await jobsFor(file.id);
    expect(job?.attemptsStarted).toBe(1);
    const deliveries = openDeliveryQueue(REDIS_URL, stack.queueName, 'slack');
    try {
      const delivery = await deliveries.getJob(String(job?.id));
      expect(delivery?.attemptsMade).toBeGreaterThanOrEqual(2);
    } finally {
      await deliveries.close();
    }
  }, 60_000);
});

describe('Slack: files Slack will not give the bot', () => {
  it('refuses a file whose download answers with the sign-in page (HTML at 200)', async () => {
    standIn.addChannel('G0HIDDEN', 'private', [OTHER]);
    const hidden = standIn.addFile('hidden.png', 'image/png', await smallPhoto(), {
      sharedIn: ['G0HIDDEN'],
    });
    const ts = standIn.nextTs();
    await people.shortcut(
      'remove_background',
      { ts, files: [hidden] },
      { channel: GENERAL, user: PERSON },
    );
    const refusal = await standIn.waitForNotice(PERSON, /hidden\.png/);
    expect(refusal.text).toMatch(/sign-in page/);
    await settle();
    expect(await jobsFor(hidden.id)).toEqual([]);
    expect(callsAbout(ts).filter((c) => c.method === 'chat.postMessage')).toEqual([]);
  });
});

describe('Slack: DMs and the App Home tab', () => {
  it('/removebg with a file link works in a DM with the bot, results in a thread there', async () => {
    standIn.addChannel('D0PERSON', 'im', [PERSON]);
    const file = standIn.addFile('direct.png', 'image/png', await smallPhoto(), {
      sharedIn: ['D0PERSON'],
      user: PERSON,
    });
    await people.command(`<https://test.slack.com/files/${PERSON}/${file.id}/direct.png>`, {
      channel: 'D0PERSON',
      user: PERSON,
    });
    const parent = await standIn.waitForCall(
      'chat.postMessage',
      (c) => c.params.channel === 'D0PERSON' && String(c.params.text).includes('direct.png'),
    );
    const upload = await standIn.waitForCall(
      'files.completeUploadExternal',
      (c) => c.params.thread_ts === parent.answer.ts,
    );
    expect(upload.params.channel_id).toBe('D0PERSON');
    expect(
      standIn.callsTo('conversations.join').filter((c) => c.params.channel === 'D0PERSON'),
    ).toEqual([]);
  });

  it('refuses in a DM between two other people, where the bot cannot post', async () => {
    await people.command('', { channel: 'D0NOTOURS', user: PERSON });
    const refusal = await standIn.waitForNotice(PERSON, /cannot work in this conversation/);
    expect(refusal.via).toBe('response_url');
  });

  it('publishes a Home tab that says how to use the app', async () => {
    const response = await people.event({
      type: 'app_home_opened',
      user: PERSON,
      channel: 'D0PERSON',
      tab: 'home',
      event_ts: standIn.nextTs(),
    });
    expect(response.status).toBe(200);
    const published = await standIn.waitForCall(
      'views.publish',
      (c) => c.params.user_id === PERSON,
    );
    const view = String(published.params.view);
    expect(view).toContain('"type":"home"');
    expect(view).toContain('/removebg');
    expect(view).toContain('Remove background');
    expect(view).toContain(':scissors:');
  });
});
