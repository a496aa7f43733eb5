import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deliveryQueueName, openConversionQueue } from '@bgremover/jobs';
import { openTestStack, type TestStack, testRedisUrl } from '@bgremover/test-kit';
import {
  DiscordStandIn,
  type RecordedRequest,
  snowflake,
} from '@bgremover/test-kit/discord/stand-in';
import { makeLavfiClip } from '@bgremover/test-kit/lavfi-clip';
import { loadWorkerConfig, type RunningWorker, startConversionWorker } from '@bgremover/worker';
import { pino } from 'pino';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningBot, startDiscordBot } from '../src/bot.js';
import { loadDiscordConfig } from '../src/config.js';
import { registerCommands } from '../src/register-commands.js';

const REDIS_URL = testRedisUrl();
const PUBLIC_BASE_URL = 'https://bgremover.example.test';
const fixtures = fileURLToPath(new URL('../../../fixtures/images/', import.meta.url));
const EPHEMERAL = 64;

let standIn: DiscordStandIn;
let stack: TestStack;
let worker: RunningWorker;
let bot: RunningBot;
let storageDir: string;
let env: NodeJS.ProcessEnv;
let photo: Buffer;
let pendingEmoji: string;

beforeAll(async () => {
  standIn = await DiscordStandIn.start();
  // A custom pending emoji: the reaction routes want it as `name:id`.
  pendingEmoji = standIn.addCustomEmoji('hourglass');
  stack = await openTestStack({
    prefix: 'test-discord',
    env: {
      ATTACHMENT_HOSTS: '127.0.0.1',
      // The stand-ins serve attachments from loopback, which workers refuse unless opted in.
      ALLOW_PRIVATE_FETCH_HOSTS: '127.0.0.1',
      DEFAULT_MODEL: 'u2netp',
      DISCORD_TOKEN: 'stand-in-token',
      DISCORD_APPLICATION_ID: standIn.applicationId,
      DISCORD_API_URL: standIn.apiUrl,
      DISCORD_ATTACHMENT_HOSTS: '127.0.0.1',
      DISCORD_USER_JOB_LIMIT: '3',
      DISCORD_MAX_FILES_PER_MESSAGE: '4',
      DISCORD_MAX_VIDEO_SECONDS: '3',
      DISCORD_PROGRESS_INTERVAL_MS: '500',
      PUBLIC_BASE_URL,
      PENDING_EMOJI: pendingEmoji,
    },
  });
  ({ env, storageDir } = stack);
  stack.ownQueue(deliveryQueueName(stack.queueName, 'discord'));
  stack.defer(() => standIn.close());
  // The worker holds no Discord token: the bot's own delivery worker posts every outcome.
  worker = await startConversionWorker(loadWorkerConfig(env));
  stack.defer(() => worker.close());
  bot = await startDiscordBot(loadDiscordConfig(env), { logger: pino({ level: 'warn' }) });
  stack.defer(() => bot.close());
  photo = await sharp(`${fixtures}coffee.png`).resize(160).png().toBuffer();
});

afterAll(async () => {
  await stack?.close();
});

/** Requests to an interaction's follow-up webhook (results and ephemeral failures). */
function followUps(token: string): RecordedRequest[] {
  return standIn
    .find('POST', new RegExp(`^/webhooks/${standIn.applicationId}/${token}$`))
    .filter((request) => request.status === 200);
}

function originalEdits(token: string): RecordedRequest[] {
  return standIn.find(
    'PATCH',
    new RegExp(`^/webhooks/${standIn.applicationId}/${token}/messages/@original$`),
  );
}

/** `<:name:id>` as the reaction routes take it: `name:id`. */
function routeOf(emoji: string): string {
  const custom = /^<a?:(\w+):(\d+)>$/.exec(emoji);
  return custom ? `${custom[1]}:${custom[2]}` : emoji;
}

/** The bot's own reaction requests on a message for one emoji (compared decoded). */
function reactions(method: string, message: { id?: unknown }, emoji: string): RecordedRequest[] {
  return standIn
    .find(method, new RegExp(`^/channels/\\d+/messages/${String(message.id)}/reactions/[^/]+/@me$`))
    .filter((request) => decodeURIComponent(request.path.split('/')[6] ?? '') === emoji);
}

function callbacks(id: string): RecordedRequest[] {
  return standIn.find('POST', new RegExp(`^/interactions/${id}/[^/]+/callback$`));
}

/** The text of an interaction callback (a direct reply). */
function replyContent(callback: RecordedRequest): string {
  const data = callback.body?.data as { content?: string } | undefined;
  return String(data?.content);
}

async function expectCutOut(data: Buffer, width: number): Promise<void> {
  const meta = await sharp(data).metadata();
  expect([meta.format, meta.width, meta.channels]).toEqual(['png', width, 4]);
}

/** A faststart MP4 made from the lavfi `video` source (in `file`), attached as `name`. */
async function clipAttachment(name: string, video: string, file = name) {
  const clipPath = join(storageDir, file);
  await makeLavfiClip(clipPath, { video, faststart: true });
  return standIn.addAttachment(name, await readFile(clipPath), 'video/mp4');
}

describe('the Discord bot with the real worker (loopback Discord stand-in)', () => {
  it('registers /removebg and the message command, pinned to server installs (and DMs when global)', async () => {
    const names = await registerCommands(
      { token: 'stand-in-token', applicationId: standIn.applicationId, apiUrl: standIn.apiUrl },
      { kind: 'guild', guildId: standIn.guildId },
    );
    expect(names).toEqual(['removebg', 'Remove background']);
    const [put] = standIn.find(
      'PUT',
      new RegExp(`^/applications/${standIn.applicationId}/guilds/${standIn.guildId}/commands$`),
    );
    type Registered = {
      name: string;
      integration_types?: number[];
      contexts?: number[];
      options?: { name: string; file_types?: string[] }[];
    };
    const body = put?.body as unknown as Registered[];
    // GUILD_INSTALL only, whatever install contexts the app enables; guild commands are
    // not offered in DMs (BOT_DM is for global commands only).
    for (const command of body) {
      expect(command.integration_types).toEqual([0]);
      expect(command.contexts).toEqual([0]);
    }
    // The picker shows pictures and videos.
    expect(body[0]?.options?.find((option) => option.name === 'file')?.file_types).toEqual([
      'image',
      'video',
    ]);
    await registerCommands(
      { token: 'stand-in-token', applicationId: standIn.applicationId, apiUrl: standIn.apiUrl },
      { kind: 'global' },
    );
    const [global] = standIn.find(
      'PUT',
      new RegExp(`^/applications/${standIn.applicationId}/commands$`),
    );
    for (const command of (global?.body ?? []) as unknown as Registered[]) {
      expect(command.integration_types).toEqual([0]);
      expect(command.contexts).toEqual([0, 1]);
    }
    expect(body[0]?.options?.map((option) => option.name)).toEqual([
      'file',
      'url',
      'model',
      'format',
      'alpha_matting',
      'only_mask',
      'bg_color',
      'bg_image',
    ]);
  });

  it('/removebg defers ephemerally and ends with the PNG posted as a follow-up', async () => {
    const file = standIn.addAttachment('cup.png', photo, 'image/png');
    const { id, token } = standIn.slashCommand({
      file,
      options: [{ name: 'model', type: 3, value: 'u2netp' }],
    });
    const result = await standIn.waitFor(() =>
      followUps(token).find((request) => request.files.length > 0),
    );
    const [deferral] = callbacks(id);
    expect(deferral?.body).toMatchObject({ type: 5, data: { flags: EPHEMERAL } });
    expect(result.files[0]?.name).toBe('cup_processed.png');
    expect(result.body?.content).toContain('cup.png');
    expect(result.body?.flags).toBeUndefined();
    await expectCutOut(result.files[0]!.data, 160);
    const edits = () => originalEdits(token).map((edit) => String(edit.body?.content));
    await standIn.waitFor(() => edits().some((content) => content.includes('cup.png: done')));
    expect(edits()[0]).toContain('Working on cup.png; the result will be posted here.');
    expect(edits().at(-1)).toContain('cup.png: done');
  });

  it('refuses a bad option and a non-image at once, and a text file posing as a PNG after looking', async () => {
    const photoFile = standIn.addAttachment('cup.png', photo, 'image/png');
    const badColour = standIn.slashCommand({
      file: photoFile,
      options: [{ name: 'bg_color', type: 3, value: 'reddish' }],
    });
    const notes = standIn.addAttachment('notes.txt', Buffer.from('hello'), 'text/plain');
    const textFile = standIn.slashCommand({ file: notes });
    const fake = standIn.addAttachment(
      'fake.png',
      Buffer.from('this is plain text, not a picture\n'.repeat(20)),
      'image/png',
    );
    const posing = standIn.slashCommand({ file: fake });

    const colourReply = await standIn.waitFor(() => callbacks(badColour.id)[0]);
    expect(colourReply.body).toMatchObject({ type: 4, data: { flags: EPHEMERAL } });
    expect(replyContent(colourReply)).toMatch(/bg_color: must be a hex colour.*reddish/);
    const textReply = await standIn.waitFor(() => callbacks(textFile.id)[0]);
    expect(textReply.body).toMatchObject({ type: 4, data: { flags: EPHEMERAL } });
    expect(replyContent(textReply)).toContain('notes.txt is not a picture or a video (text/plain)');

    const edit = await standIn.waitFor(() => originalEdits(posing.token)[0]);
    expect(callbacks(posing.id)[0]?.body).toMatchObject({ type: 5, data: { flags: EPHEMERAL } });
    expect(String(edit.body?.content)).toMatch(
      /fake\.png is not a picture or video we can process: its content is not a known format, although it says image\/png/,
    );
    const queue = openConversionQueue(REDIS_URL, env.QUEUE_NAME);
    const jobs = await queue.getJobs(['waiting', 'prioritized', 'active', 'completed', 'failed']);
    await queue.close();
    expect(jobs.some((job) => job.id?.includes(posing.id))).toBe(false);
    expect(followUps(posing.token)).toHaveLength(0);
  });

  it('the message command processes each picture attachment and ignores other files', async () => {
    const message = standIn.postMessage([
      standIn.addAttachment('cup.png', photo, 'image/png'),
      standIn.addAttachment('readme.txt', Buffer.from('words'), 'text/plain'),
      standIn.addAttachment(
        'rocket.jpg',
        await sharp(`${fixtures}rocket.jpg`).resize(120).jpeg().toBuffer(),
        'image/jpeg',
      ),
    ]);
    const { token } = standIn.contextMenu(message);
    const results = await standIn.waitFor(() => {
      const uploads = followUps(token).filter((request) => request.files.length > 0);
      return uploads.length === 2 && uploads;
    });
    const names = results.map((request) => request.files[0]?.name).sort();
    expect(names).toEqual(['cup_processed.png', 'rocket_processed.png']);
    await expectCutOut(
      results.find((r) => r.files[0]?.name === 'cup_processed.png')!.files[0]!.data,
      160,
    );
    expect(String(originalEdits(token)[0]?.body?.content)).toContain(
      'Working on cup.png, rocket.jpg',
    );
    // One owner of the deferred reply: each edit shows every file's line as it is then, so the
    // last edit shows both files done (two jobs finishing together cannot hide each other).
    const bothDone = (content: string) =>
      content.includes('cup.png: done') && content.includes('rocket.jpg: done');
    await standIn.waitFor(() =>
      originalEdits(token).some((edit) => bothDone(String(edit.body?.content))),
    );
    expect(bothDone(String(originalEdits(token).at(-1)?.body?.content))).toBe(true);
  });

  it('the reaction reacts with the custom pending emoji, opens a thread, posts the result there, then ✅', async () => {
    const message = standIn.postMessage([standIn.addAttachment('cup.png', photo, 'image/png')]);
    const reactor = snowflake();
    standIn.react(message, '✂️', reactor);
    const done = await standIn.waitFor(() => reactions('PUT', message, '✅')[0]);
    const [pending] = reactions('PUT', message, routeOf(pendingEmoji));
    expect(pending?.status).toBe(204);
    expect(pending!.at).toBeLessThanOrEqual(done.at);
    // The delivery takes the pending emoji away after ✅ is on (as `name:id`, which Discord
    // accepts; the `<:name:id>` form is refused with 10014).
    const removed = await standIn.waitFor(
      () => reactions('DELETE', message, routeOf(pendingEmoji))[0],
    );
    expect(removed.status).toBe(204);

    const [threadCreation] = standIn.find(
      'POST',
      new RegExp(`^/channels/${standIn.channelId}/messages/${message.id}/threads$`),
    );
    expect(threadCreation?.status).toBe(201);
    const threadPosts = standIn
      .find('POST', /^\/channels\/\d+\/messages$/)
      .filter((request) => request.files[0]?.name === 'cup_processed.png');
    expect(threadPosts).toHaveLength(1);
    // A thread started from a message has the message's id.
    expect(threadPosts[0]!.path).toBe(`/channels/${message.id}/messages`);
    expect(String(threadPosts[0]!.body?.content)).toContain(`<@${reactor}>`);
    await expectCutOut(threadPosts[0]!.files[0]!.data, 160);
  });

  it('the same message reacted to twice (and again later) is processed once', async () => {
    const bytes = await sharp(`${fixtures}chelsea.png`).resize(100).png().toBuffer();
    const message = standIn.postMessage([standIn.addAttachment('cat.png', bytes, 'image/png')]);
    standIn.react(message, '✂️', snowflake());
    standIn.react(message, '✂️', snowflake());
    const okPath = new RegExp(`^/channels/\\d+/messages/${message.id}/reactions/%E2%9C%85/@me$`);
    await standIn.waitFor(() => standIn.find('PUT', okPath)[0]);
    standIn.react(message, '✂️', snowflake());
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const threads = standIn.find('POST', new RegExp(`/messages/${message.id}/threads$`));
    expect(threads).toHaveLength(1);
    const results = standIn
      .find('POST', /^\/channels\/\d+\/messages$/)
      .filter((request) => request.files[0]?.name === 'cat_processed.png');
    expect(results).toHaveLength(1);
    expect(standIn.find('PUT', okPath)).toHaveLength(1);
  });

  it('a result over the upload limit is posted as a link to the API, saying so', async () => {
    // The interaction reports a limit smaller than the result: a link without trying to upload.
    const first = standIn.slashCommand({
      file: standIn.addAttachment('cup.png', photo, 'image/png'),
      attachmentSizeLimit: 2_000,
    });
    const linked = await standIn.waitFor(() => followUps(first.token)[0]);
    expect(linked.files).toHaveLength(0);
    expect(String(linked.body?.content)).toMatch(
      /too large to upload .*over the 2\.0 KB upload limit/,
    );
    expect(String(linked.body?.content)).toMatch(
      new RegExp(`${PUBLIC_BASE_URL}/v1/files/discord-${first.id}-\\d+/cup_processed\\.png`),
    );

    // Discord itself refuses the upload (40005): the worker falls back to the link.
    standIn.uploadLimit = 1_000;
    try {
      const second = standIn.slashCommand({
        file: standIn.addAttachment('cup.png', photo, 'image/png'),
      });
      const refusedUpload = await standIn.waitFor(() =>
        standIn
          .find('POST', new RegExp(`^/webhooks/\\d+/${second.token}$`))
          .find((request) => request.status === 413),
      );
      expect(refusedUpload.files).toHaveLength(1);
      const link = await standIn.waitFor(() => followUps(second.token)[0]);
      expect(String(link.body?.content)).toContain(`${PUBLIC_BASE_URL}/v1/files/`);
    } finally {
      standIn.uploadLimit = 25 * 1024 * 1024;
    }
  });

  it('a 429 on the follow-up is retried after the delay Discord gives', async () => {
    const file = standIn.addAttachment('cup.png', photo, 'image/png');
    standIn.rateLimitNext('POST', new RegExp(`^/webhooks/${standIn.applicationId}/[^/]+$`), 1);
    const { token } = standIn.slashCommand({ file });
    const delivered = await standIn.waitFor(() => followUps(token)[0]);
    const limited = standIn
      .find('POST', new RegExp(`^/webhooks/${standIn.applicationId}/${token}$`))
      .find((request) => request.status === 429);
    expect(limited).toBeDefined();
    expect(delivered.at - limited!.at).toBeGreaterThanOrEqual(1_000);
    expect(delivered.files[0]?.name).toBe('cup_processed.png');
  });

  it('after the interaction token expired the result is posted as a bot message', async () => {
    const file = standIn.addAttachment('cup.png', photo, 'image/png');
    const user = snowflake();
    // Created 14.5 minutes ago: the token is too close to its 15-minute expiry to be used.
    const { token } = standIn.slashCommand({ file, userId: user, ageMs: 14.5 * 60 * 1000 });
    const posted = await standIn.waitFor(() =>
      standIn
        .find('POST', new RegExp(`^/channels/${standIn.channelId}/messages$`))
        .find((request) => String(request.body?.content).startsWith(`<@${user}>`)),
    );
    expect(posted.files[0]?.name).toBe('cup_processed.png');
    expect(posted.body?.allowed_mentions).toEqual({ users: [user] });
    expect(followUps(token)).toHaveLength(0);
  });

  it('refuses more jobs than a person may start, naming the limit', async () => {
    const pictures = await Promise.all(
      ['a', 'b', 'c', 'd'].map((name) => standIn.addAttachment(`${name}.png`, photo, 'image/png')),
    );
    const message = standIn.postMessage(pictures);
    const { token } = standIn.contextMenu(message, { userId: snowflake() });
    const edit = await standIn.waitFor(() => originalEdits(token)[0]);
    expect(String(edit.body?.content)).toMatch(
      /Not started: this would start 4 jobs; you may start 3 per 60 min and have 3 left/,
    );
    expect(followUps(token)).toHaveLength(0);
  });

  it('a picture the pipeline cannot read fails with an ephemeral follow-up naming it', async () => {
    // A PNG signature followed by garbage: it passes the sniffing, and core refuses it.
    const broken = Buffer.concat([photo.subarray(0, 64), Buffer.alloc(2_000, 7)]);
    const file = standIn.addAttachment('broken.png', broken, 'image/png');
    const { token } = standIn.slashCommand({ file });
    const failure = await standIn.waitFor(() => followUps(token)[0]);
    expect(failure.body?.flags).toBe(EPHEMERAL);
    expect(failure.files).toHaveLength(0);
    expect(String(failure.body?.content)).toMatch(
      /^Could not remove the background from broken\.png: /,
    );
    await standIn.waitFor(() =>
      originalEdits(token).some((edit) =>
        String(edit.body?.content).includes('broken.png: failed'),
      ),
    );
  });

  it('refuses a clip longer than the limit after reading its length', async () => {
    const file = await clipAttachment('long.mp4', 'color=c=blue:size=64x48:rate=5:duration=5');
    const { id, token } = standIn.slashCommand({ file });
    const edit = await standIn.waitFor(() => originalEdits(token)[0]);
    expect(callbacks(id)[0]?.body).toMatchObject({ type: 5, data: { flags: EPHEMERAL } });
    expect(String(edit.body?.content)).toMatch(/long\.mp4 is 5\.0 s long; the limit is 3 s/);
    expect(followUps(token)).toHaveLength(0);
  });

  it('a video clip shows frame progress in the deferred reply and ends with the clip', async () => {
    const file = await clipAttachment('clip.mp4', 'testsrc2=size=160x120:rate=10:duration=1');
    const { token } = standIn.slashCommand({ file });
    const result = await standIn.waitFor(
      () => followUps(token).find((request) => request.files.length > 0),
      120_000,
    );
    expect(result.files[0]).toMatchObject({ name: 'clip_processed.webm' });
    const progressEdits = originalEdits(token).filter((edit) =>
      /frames\)$/.test(String(edit.body?.content)),
    );
    expect(progressEdits.length).toBeGreaterThanOrEqual(1);
    const lines = String(progressEdits[0]?.body?.content).split('\n');
    // One owner of the deferred reply: the summary stays, the file's line shows its progress.
    expect(lines[0]).toBe('Working on clip.mp4; the result will be posted here.');
    expect(lines.at(-1)).toMatch(
      /^Removing the background from clip\.mp4: \d+% \(\d+\/10 frames\)$/,
    );
    // Throttled: never two progress edits within the adapter's interval (500 ms here), however
    // many frames were reported in between.
    for (const [index, edit] of progressEdits.entries()) {
      if (index > 0) expect(edit.at - progressEdits[index - 1]!.at).toBeGreaterThanOrEqual(400);
    }
    // The worker edits the reply to "done" just after posting the clip; once that edit has
    // arrived, no progress edit lands after it.
    await standIn.waitFor(
      () =>
        originalEdits(token).find((edit) => String(edit.body?.content).includes('clip.mp4: done')),
      10_000,
    );
    const last = originalEdits(token).at(-1);
    expect(String(last?.body?.content)).toContain('clip.mp4: done');
  });

  it('a channel where the bot may not attach files: one attempt, a DM saying why, ❌ instead of the pending emoji', async () => {
    const noFiles = standIn.addChannel(['ATTACH_FILES']);
    const message = standIn.postMessage([standIn.addAttachment('cup.png', photo, 'image/png')], {
      channelId: noFiles,
    });
    const reactor = snowflake();
    standIn.react(message, '✂️', reactor);
    const failed = await standIn.waitFor(() => reactions('PUT', message, '❌')[0]);
    expect(failed.status).toBe(204);
    const removed = await standIn.waitFor(
      () => reactions('DELETE', message, routeOf(pendingEmoji))[0],
    );
    expect(removed.status).toBe(204);
    expect(reactions('PUT', message, '✅')).toHaveLength(0);
    // Told in a DM (no interaction token in the reaction flow), naming the reason.
    const dm = standIn
      .find('POST', /^\/users\/@me\/channels$/)
      .find((request) => request.body?.recipient_id === reactor);
    expect(dm?.status).toBe(200);
    const told = await standIn.waitFor(() =>
      standIn
        .find('POST', /^\/channels\/\d+\/messages$/)
        .find((request) =>
          String(request.body?.content).startsWith('I could not post the result for cup.png'),
        ),
    );
    expect(String(told.body?.content)).toMatch(/lacks a permission.*Discord error 50013/);
    // Not retried: the first retry would come 2 s later.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const uploads = standIn
      .find('POST', new RegExp(`^/channels/${message.id}/messages$`))
      .filter((request) => request.files.length > 0);
    expect(uploads.map((request) => request.code)).toEqual([50013]);
  });

  it('a message that already has a thread gets its results in that thread', async () => {
    const message = standIn.postMessage([standIn.addAttachment('cup.png', photo, 'image/png')]);
    // Someone opened a thread on the message first (its id is the message's).
    const opened = await fetch(
      `${standIn.apiUrl}/v10/channels/${standIn.channelId}/messages/${message.id}/threads`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'talk' }),
      },
    );
    expect(opened.status).toBe(201);
    standIn.react(message, '✂️', snowflake());
    await standIn.waitFor(() => reactions('PUT', message, '✅')[0]);
    const results = standIn
      .find('POST', new RegExp(`^/channels/${message.id}/messages$`))
      .filter((request) => request.files[0]?.name === 'cup_processed.png');
    expect(results.map((request) => request.status)).toEqual([200]);
    const creations = standIn.find('POST', new RegExp(`/messages/${message.id}/threads$`));
    expect(creations.filter((request) => request.status === 400)).toHaveLength(0);
  });

  it('a forwarded message: the message command and the reaction find every file in its snapshot', async () => {
    const cat = await sharp(`${fixtures}chelsea.png`).resize(90).png().toBuffer();
    const original = standIn.postMessage([
      standIn.addAttachment('cup.png', photo, 'image/png'),
      standIn.addAttachment('cat.png', cat, 'image/png'),
    ]);
    const forward = standIn.postForward(original);
    const { token } = standIn.contextMenu(forward);
    const results = await standIn.waitFor(() => {
      const uploads = followUps(token).filter((request) => request.files.length > 0);
      return uploads.length === 2 && uploads;
    });
    expect(results.map((request) => request.files[0]?.name).sort()).toEqual([
      'cat_processed.png',
      'cup_processed.png',
    ]);

    // The reaction on the forward: every attachment, not only the first, in the forward's thread.
    standIn.react(forward, '✂️', snowflake());
    await standIn.waitFor(() => {
      const posted = standIn
        .find('POST', new RegExp(`^/channels/${forward.id}/messages$`))
        .filter((request) => request.files.length > 0);
      return posted.length === 2;
    });
    await standIn.waitFor(() => reactions('PUT', forward, '✅')[0]);
  });

  it('a link that expires while the job waits in the queue: the file was copied into storage', async () => {
    await worker.worker.pause();
    let started: { id: string; token: string };
    let attachmentId: string;
    try {
      // Every link signed now (refreshed ones too) lives 2 s.
      standIn.urlLifetimeMs = 2_000;
      const file = standIn.addAttachment('cup.png', photo, 'image/png');
      attachmentId = String(file.id);
      started = standIn.slashCommand({ file });
      await standIn.waitFor(() => originalEdits(started.token)[0]);
      // Past the link's expiry before any worker looks at the job.
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      expect((await fetch(String(file.url))).status).toBe(404);
    } finally {
      standIn.urlLifetimeMs = 24 * 3600_000;
      worker.worker.resume();
    }
    const result = await standIn.waitFor(() =>
      followUps(started.token).find((request) => request.files.length > 0),
    );
    expect(result.files[0]?.name).toBe('cup_processed.png');
    const queue = openConversionQueue(REDIS_URL, env.QUEUE_NAME);
    const job = await queue.getJob(`discord-${started.id}-${attachmentId}`);
    await queue.close();
    expect(job?.data.input.kind).toBe('storage');
  });

  it('a link signed long ago is refreshed before the bot reads it', async () => {
    const file = standIn.addAttachment('cup.png', photo, 'image/png', {
      issuedAgoMs: 25 * 3600_000,
    });
    expect((await fetch(String(file.url))).status).toBe(404);
    const { token } = standIn.slashCommand({ file });
    const result = await standIn.waitFor(() =>
      followUps(token).find((request) => request.files.length > 0),
    );
    expect(result.files[0]?.name).toBe('cup_processed.png');
    const refresh = standIn.find('POST', /^\/attachments\/refresh-urls$/);
    expect(
      refresh.some((request) =>
        ((request.body?.attachment_urls ?? []) as string[]).includes(String(file.url)),
      ),
    ).toBe(true);
  });

  it('/removebg url: takes a link the workers may fetch, and refuses another host at once', async () => {
    const hosted = standIn.addAttachment('cup.png', photo, 'image/png');
    const { token } = standIn.slashCommand({ url: String(hosted.url) });
    const result = await standIn.waitFor(() =>
      followUps(token).find((request) => request.files.length > 0),
    );
    expect(result.files[0]?.name).toBe('cup_processed.png');

    const elsewhere = standIn.slashCommand({ url: 'https://pictures.example.com/cat.png' });
    const refusal = await standIn.waitFor(() => callbacks(elsewhere.id)[0]);
    expect(refusal.body).toMatchObject({ type: 4, data: { flags: EPHEMERAL } });
    expect(replyContent(refusal)).toMatch(/pictures\.example\.com.*ATTACHMENT_HOSTS/);
    const neither = standIn.slashCommand({});
    const asked = await standIn.waitFor(() => callbacks(neither.id)[0]);
    expect(replyContent(asked)).toMatch(/`file` or as `url`/);
  });

  it('/removebg in a DM with the bot', async () => {
    const file = standIn.addAttachment('cup.png', photo, 'image/png');
    const { id, token } = standIn.slashCommand({ file, dm: true });
    const result = await standIn.waitFor(() =>
      followUps(token).find((request) => request.files.length > 0),
    );
    expect(result.files[0]?.name).toBe('cup_processed.png');
    const queue = openConversionQueue(REDIS_URL, env.QUEUE_NAME);
    const job = await queue.getJob(`discord-${id}-${String(file.id)}`);
    await queue.close();
    expect(job?.data.target).toMatchObject({ kind: 'discord' });
    expect(job?.data.target.kind === 'discord' && job.data.target.guildId).toBeFalsy();
  });

  it("the reaction flow shows a clip's progress in a message in the thread", async () => {
    const message = standIn.postMessage([
      await clipAttachment(
        'clip.mp4',
        'testsrc2=size=160x120:rate=10:duration=1',
        'react-clip.mp4',
      ),
    ]);
    standIn.react(message, '✂️', snowflake());
    await standIn.waitFor(() => reactions('PUT', message, '✅')[0], 120_000);
    const threadPosts = standIn.find('POST', new RegExp(`^/channels/${message.id}/messages$`));
    const progress = threadPosts.find((request) =>
      /^Removing the background from clip\.mp4: \d+% \(\d+\/10 frames\)$/.test(
        String(request.body?.content),
      ),
    );
    expect(progress).toBeDefined();
    expect(threadPosts.some((request) => request.files[0]?.name === 'clip_processed.webm')).toBe(
      true,
    );
    const finalEdit = await standIn.waitFor(() =>
      standIn
        .find('PATCH', new RegExp(`^/channels/${message.id}/messages/\\d+$`))
        .find((request) => String(request.body?.content).includes('clip.mp4: done')),
    );
    expect(finalEdit.status).toBe(200);
  });
});
