import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeLavfiClip } from '@bgremover/test-kit/lavfi-clip';
import {
  commandBody,
  FORM,
  interactivityBody,
  JSON_TYPE,
  postSigned,
  slackSignature,
} from '@bgremover/test-kit/slack/signed-requests';
import type {
  Notice,
  RecordedCall,
  SlackStandIn,
  StandInFile,
} from '@bgremover/test-kit/slack/stand-in';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  modalValues,
  reactionBody,
  shortcutPayload,
  slackPeople,
  startSlackSuite,
} from './payloads.js';
import {
  jobsForFile,
  PUBLIC_BASE_URL,
  SIGNING_SECRET,
  type SlackStack,
  smallPhoto,
  startSlackStack,
} from './stack.js';

const CHANNEL = 'C0TEST';
const PERSON = 'U0PERSON';

let standIn: SlackStandIn;
let stack: SlackStack;

const HERE = { channel: CHANNEL, user: PERSON };
let people: ReturnType<typeof slackPeople>;

/** The completeUploadExternal call for a thread, and the bytes uploaded for it. */
async function uploadInThread(threadTs: string): Promise<{ call: RecordedCall; bytes: Buffer }> {
  const call = await standIn.waitForCall(
    'files.completeUploadExternal',
    (c) => c.params.thread_ts === threadTs,
  );
  const [file] = JSON.parse(String(call.params.files)) as { id: string }[];
  const bytes = file ? standIn.uploads.get(file.id) : undefined;
  if (!bytes) throw new Error('completeUploadExternal named a file that was never uploaded');
  return { call, bytes };
}

/** A private notice the person saw (through the response_url, an ephemeral or a DM). */
function noticeTo(text: RegExp): Promise<Notice> {
  return standIn.waitForNotice(PERSON, text);
}

async function photoMessage(name = 'photo.png'): Promise<{ ts: string; file: StandInFile }> {
  const file = standIn.addFile(name, 'image/png', await smallPhoto());
  return { ts: standIn.nextTs(), file };
}

/** A photo message `name` in the channel, as reactions find it. */
async function postedPhoto(name: string): Promise<{ ts: string; file: StandInFile }> {
  const message = await photoMessage(name);
  standIn.addMessage(CHANNEL, { ts: message.ts, files: [message.file] });
  return message;
}

/** A photo message `name` with the message shortcut `callbackId` run on it; Slack got a 200. */
async function shortcutOnPhoto(name: string, callbackId = 'remove_background') {
  const message = await photoMessage(name);
  const response = await people.shortcut(
    callbackId,
    { ts: message.ts, files: [message.file] },
    HERE,
  );
  expect(response.status).toBe(200);
  return message;
}

beforeAll(async () => {
  ({ standIn, stack, people } = await startSlackSuite());
});

afterAll(async () => {
  await stack?.close();
  await standIn?.close();
});

describe('Slack app: bolt over HTTP, a loopback Slack, the real worker, model and Redis', () => {
  it('answers a request with a bad signature with 401 and acts on nothing', async () => {
    const message = await photoMessage();
    const body = interactivityBody(
      shortcutPayload(
        standIn,
        'remove_background',
        { ts: message.ts, files: [message.file] },
        HERE,
      ),
    );
    const timestamp = Math.floor(Date.now() / 1000);
    const before = standIn.calls.length;
    const response = await fetch(stack.eventsUrl, {
      method: 'POST',
      headers: {
        'content-type': FORM,
        'x-slack-request-timestamp': String(timestamp),
        'x-slack-signature': slackSignature('not-the-secret', timestamp, body),
      },
      body,
    });
    expect(response.status).toBe(401);
    const stale = await fetch(stack.eventsUrl, {
      method: 'POST',
      headers: {
        'content-type': FORM,
        'x-slack-request-timestamp': String(timestamp - 600),
        'x-slack-signature': slackSignature(SIGNING_SECRET, timestamp - 600, body),
      },
      body,
    });
    expect(stale.status).toBe(401);
    expect(standIn.calls.slice(before).filter((c) => c.method !== 'auth.test')).toEqual([]);
  });

  it('"Remove background" uploads the cut-out into the message thread with files.uploadV2', async () => {
    const message = await shortcutOnPhoto('coffee cup.png');

    const { call, bytes } = await uploadInThread(message.ts);
    expect(call.params.channel_id).toBe(CHANNEL);
    expect(String(call.params.initial_comment)).toContain(`<@${PERSON}>`);
    expect(String(call.params.initial_comment)).toContain('coffee cup.png');
    const asked = standIn.callsTo('files.getUploadURLExternal');
    // The person's own name, spaces and all (storage keys use a safe form of it).
    expect(asked.some((c) => c.params.filename === 'coffee cup_processed.png')).toBe(true);
    const png = await sharp(bytes).metadata();
    expect([png.format, png.width, png.channels]).toEqual(['png', 48, 4]);
    const summary = await noticeTo(/Removing the background from coffee cup\.png/);
    expect([summary.via, summary.channel]).toEqual(['response_url', CHANNEL]);
  });

  it('answers a file that is not a picture or a video with a message naming it', async () => {
    const pdf = standIn.addFile('report.pdf', 'application/pdf', Buffer.from('%PDF-1.4\n%%EOF\n'));
    const ts = standIn.nextTs();
    const response = await people.shortcut('remove_background', { ts, files: [pdf] }, HERE);
    expect(response.status).toBe(200);
    const reply = await noticeTo(/report\.pdf/);
    expect(reply.text).toMatch(
      /report\.pdf is not a picture or a video \(it is application\/pdf\)/,
    );
    const jobs = await stack.queue.getJobs(['waiting', 'prioritized', 'active', 'completed']);
    expect(jobs.filter((job) => job.data.input.filename.includes('report'))).toEqual([]);
  });

  it('"Remove background…" opens the options modal; its submission runs with the chosen options', async () => {
    const message = await shortcutOnPhoto('mask-me.png', 'remove_background_options');
    const opened = await standIn.waitForCall('views.open', (c) =>
      String(c.params.view).includes(message.file.id),
    );
    const view = JSON.parse(String(opened.params.view)) as {
      callback_id: string;
      private_metadata: string;
      blocks: { block_id: string }[];
    };
    expect(view.callback_id).toBe('removebg_options');
    expect(view.blocks.map((block) => block.block_id)).toEqual([
      'model',
      'video_format',
      'flags',
      'color',
    ]);

    const submit = (color: string) =>
      people.submitModal(
        view,
        PERSON,
        modalValues({
          model: { value: { type: 'static_select', selected_option: { value: 'u2netp' } } },
          flags: { value: { type: 'checkboxes', selected_options: [{ value: 'only_mask' }] } },
          color: { value: { type: 'plain_text_input', value: color } },
        }),
      );

    const refused = await submit('not-a-colour');
    expect(refused.status).toBe(200);
    const errors = (await refused.json()) as {
      response_action: string;
      errors: Record<string, string>;
    };
    expect(errors.response_action).toBe('errors');
    expect(errors.errors.color).toMatch(/"not-a-colour" is not a colour/);

    const accepted = await submit('');
    expect(accepted.status).toBe(200);
    const { bytes } = await uploadInThread(message.ts);
    const mask = await sharp(bytes).metadata();
    expect(mask.format).toBe('png');
    expect(mask.width).toBe(48);
    expect(mask.hasAlpha).toBe(false);
    const info = standIn.callsTo('files.info').map((c) => c.params.file);
    expect(info).toContain(message.file.id);
  });

  it('the reaction trigger reacts :hourglass:, uploads into the thread, then :white_check_mark:', async () => {
    const message = await postedPhoto('reacted.png');
    const response = await people.reaction(message.ts, HERE);
    expect(response.status).toBe(200);
    const onMessage = (name: string) => (c: RecordedCall) =>
      c.params.timestamp === message.ts && c.params.name === name;
    await standIn.waitForCall('reactions.add', onMessage('hourglass'));
    const { bytes } = await uploadInThread(message.ts);
    expect((await sharp(bytes).metadata()).format).toBe('png');
    await standIn.waitForCall('reactions.remove', onMessage('hourglass'));
    await standIn.waitForCall('reactions.add', onMessage('white_check_mark'));
    expect(standIn.callsTo('reactions.add').filter(onMessage('x'))).toEqual([]);
  });

  it('posts a failed job in the thread with its reason and reacts :x:', async () => {
    const broken = standIn.addFile('broken.png', 'image/png', Buffer.from('this is not a PNG'));
    const ts = standIn.nextTs();
    standIn.addMessage(CHANNEL, { ts, files: [broken] });
    const response = await people.reaction(ts, HERE);
    expect(response.status).toBe(200);
    const failure = await standIn.waitForCall('chat.postMessage', (c) => c.params.thread_ts === ts);
    expect(String(failure.params.text)).toMatch(
      new RegExp(`^:x: <@${PERSON}> I could not remove the background from broken\\.png: .+`),
    );
    await standIn.waitForCall(
      'reactions.add',
      (c) => c.params.timestamp === ts && c.params.name === 'x',
    );
    expect(
      standIn.callsTo('files.completeUploadExternal').filter((c) => c.params.thread_ts === ts),
    ).toEqual([]);
  });

  it('ignores other emoji', async () => {
    const message = await postedPhoto('ignored.png');
    const response = await people.reaction(message.ts, HERE, { reaction: 'thumbsup' });
    expect(response.status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(standIn.calls.filter((c) => Object.values(c.params).includes(message.ts))).toEqual([]);
  });

  it('runs a retried event (X-Slack-Retry-Num) once', async () => {
    const message = await postedPhoto('retried.png');
    const eventId = `Ev${randomUUID().slice(0, 8)}`;
    const body = reactionBody(standIn, message.ts, HERE, { eventId });
    const first = await postSigned(stack.eventsUrl, SIGNING_SECRET, body, JSON_TYPE);
    const retries = await Promise.all(
      [1, 2].map((retry) =>
        postSigned(stack.eventsUrl, SIGNING_SECRET, body, JSON_TYPE, {
          'x-slack-retry-num': String(retry),
          'x-slack-retry-reason': 'http_timeout',
        }),
      ),
    );
    expect([first.status, ...retries.map((r) => r.status)]).toEqual([200, 200, 200]);

    await uploadInThread(message.ts);
    const done = (c: RecordedCall) =>
      c.params.timestamp === message.ts && c.params.name === 'white_check_mark';
    await standIn.waitForCall('reactions.add', done);
    // Give a second run every chance to show itself before counting.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await jobsForFile(stack, message.file.id)).toHaveLength(1);
    const uploads = standIn
      .callsTo('files.completeUploadExternal')
      .filter((c) => c.params.thread_ts === message.ts);
    expect(uploads).toHaveLength(1);
    const hourglasses = standIn
      .callsTo('reactions.add')
      .filter((c) => c.params.timestamp === message.ts && c.params.name === 'hourglass');
    expect(hourglasses).toHaveLength(1);
  });

  it('/removebg help explains usage; /removebg alone opens the modal with a file input', async () => {
    const help = await people.command('help', HERE);
    expect(help.status).toBe(200);
    const answer = (await help.json()) as { response_type: string; text: string };
    expect(answer.response_type).toBe('ephemeral');
    expect(answer.text).toContain('Remove background');
    expect(answer.text).toContain(':scissors:');

    const bad = await people.command('photo.png', HERE);
    expect(((await bad.json()) as { text: string }).text).toMatch(/"photo.png" is not a file link/);

    const before = standIn.callsTo('views.open').length;
    const modal = await people.command('', HERE);
    expect(modal.status).toBe(200);
    await standIn.waitForCall('views.open', () => standIn.callsTo('views.open').length > before);
    const opened = standIn.callsTo('views.open').at(-1);
    const view = JSON.parse(String(opened?.params.view)) as {
      blocks: { block_id: string; element: { type: string }; hint?: { text: string } }[];
    };
    expect(view.blocks[0]).toMatchObject({ block_id: 'file', element: { type: 'file_input' } });
    // Slack refuses files over 10 MB in a form; the form says so.
    expect(view.blocks[0]?.hint?.text).toMatch(/10 MB each/);
    expect(() =>
      standIn.uploadThroughFileInput(
        'big.mov',
        'video/quicktime',
        Buffer.alloc(11 * 1024 * 1024),
        PERSON,
      ),
    ).toThrow(/over 10 MB/);
  });

  it('/removebg with a file link runs on that file in a thread the bot opens', async () => {
    const file = standIn.addFile('linked.png', 'image/png', await smallPhoto(), {
      sharedIn: [CHANNEL],
    });
    const permalink = `https://test.slack.com/files/U0AUTHOR/${file.id}/linked.png`;
    const response = await postSigned(
      stack.eventsUrl,
      SIGNING_SECRET,
      commandBody({
        team_id: 'T1',
        channel_id: CHANNEL,
        user_id: PERSON,
        command: '/removebg',
        text: `<${permalink}> model=u2netp color=#00ff00`,
        response_url: standIn.responseUrl(PERSON, CHANNEL),
        trigger_id: standIn.triggerId(),
      }),
      FORM,
    );
    expect(response.status).toBe(200);
    const parent = await standIn.waitForCall(
      'chat.postMessage',
      (c) => c.params.channel === CHANNEL && String(c.params.text).includes('linked.png'),
    );
    const threadTs = String(parent.answer.ts);
    const { call, bytes } = await uploadInThread(threadTs);
    expect(call.params.channel_id).toBe(CHANNEL);
    const picture = await sharp(bytes).metadata();
    expect([picture.format, picture.hasAlpha]).toEqual(['png', false]);
  });
});

describe('Slack app: video progress', () => {
  it("shows a video's progress in one message that is edited, then uploads the result", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bgremover-slack-clip-'));
    const clipPath = join(dir, 'clip.mp4');
    await makeLavfiClip(clipPath, { video: 'testsrc2=size=96x64:rate=10:duration=1.2' });
    const clip = standIn.addFile('clip.mp4', 'video/mp4', await readFile(clipPath));
    await rm(dir, { recursive: true, force: true });
    const ts = standIn.nextTs();
    const response = await people.shortcut('remove_background', { ts, files: [clip] }, HERE);
    expect(response.status).toBe(200);

    const { bytes } = await uploadInThread(ts);
    expect(bytes.length).toBeGreaterThan(0);
    const posted = standIn.callsTo('chat.postMessage').filter((c) => c.params.thread_ts === ts);
    expect(posted).toHaveLength(1);
    expect(String(posted[0]?.params.text)).toMatch(
      /clip\.mp4: removing the background, \d+% \(\d+ of 12 frames\)/,
    );
    const progressTs = posted[0]?.answer.ts;
    const done = await standIn.waitForCall(
      'chat.update',
      (c) => c.params.ts === progressTs && String(c.params.text).startsWith(':white_check_mark:'),
    );
    expect(done.params.text).toBe(':white_check_mark: clip.mp4: done');
    // Done is said only once the upload went through.
    expect(standIn.calls.indexOf(done)).toBeGreaterThan(
      standIn.calls.findIndex(
        (c) => c.method === 'files.completeUploadExternal' && c.params.thread_ts === ts,
      ),
    );
    const asked = standIn.callsTo('files.getUploadURLExternal');
    expect(asked.some((c) => c.params.filename === 'clip_processed.mov')).toBe(true);
  });
});

describe('Slack app: results over the upload limit', () => {
  let small: SlackStack;
  beforeAll(async () => {
    await stack.close();
    small = await startSlackStack(standIn, { maxUploadBytes: 100 });
    stack = small;
    people = slackPeople(standIn, () => small.eventsUrl);
  });

  it('posts a link to the API instead of uploading', async () => {
    const message = await shortcutOnPhoto('big.png');
    const link = await standIn.waitForCall(
      'chat.postMessage',
      (c) => c.params.thread_ts === message.ts,
    );
    const jobs = await small.queue.getJobs(['completed', 'active', 'waiting', 'prioritized']);
    const jobId = jobs[0]?.id;
    expect(String(link.params.text)).toContain(
      `<${PUBLIC_BASE_URL}/v1/files/${jobId}/big_processed.png|download big_processed.png>`,
    );
    expect(
      standIn
        .callsTo('files.completeUploadExternal')
        .filter((c) => c.params.thread_ts === message.ts),
    ).toEqual([]);
  });
});
