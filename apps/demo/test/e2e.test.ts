/**
 * The whole system at once: Redis, the HTTP API, two worker processes, the Discord bot and the
 * Slack app (against their loopback stand-ins, driven by discord.js and bolt), all on one fresh
 * queue and storage folder. A Discord slash command, a Slack shortcut and three API requests (one
 * a video) run concurrently; the worker running the video is killed with SIGKILL mid-video. Every
 * result must still arrive, exactly once, where it belongs.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ApiServer, buildApiServer, loadApiConfig } from '@bgremover/api';
import { loadDiscordConfig, startDiscordBot } from '@bgremover/discord';
import { deliveryQueueName, redisConnection } from '@bgremover/jobs';
import { loadSlackConfig, type RunningSlackApp, startSlackApp } from '@bgremover/slack';
import {
  openTestStack,
  spawnWorkerProcess,
  type TestStack,
  type WorkerProcess,
  waitFor,
} from '@bgremover/test-kit';
import { DiscordStandIn } from '@bgremover/test-kit/discord/stand-in';
import { makeLavfiClip } from '@bgremover/test-kit/lavfi-clip';
import { FORM, interactivityBody, postSigned } from '@bgremover/test-kit/slack/signed-requests';
import { type SlackStandIn, startSlackStandIn } from '@bgremover/test-kit/slack/stand-in';
import { QueueEvents } from 'bullmq';
import { pino } from 'pino';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertFile, fetchResults } from '../src/api-client.js';

const API_KEY = 'e2e-key';
const SLACK_TOKEN = 'xoxb-e2e-bot-token';
const SLACK_SECRET = 'e2e-signing-secret';
const DISCORD_TOKEN = 'e2e-discord-token';
const fixtures = fileURLToPath(new URL('../../../fixtures/images/', import.meta.url));
const workerMain = fileURLToPath(new URL('../../../packages/worker/src/main.ts', import.meta.url));

let scratch: string;
let stack: TestStack;
let env: NodeJS.ProcessEnv;
let discord: DiscordStandIn;
let slack: SlackStandIn;
let api: ApiServer;
let apiUrl: string;
let slackApp: RunningSlackApp;
let events: QueueEvents;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'bgremover-e2e-'));
  discord = await DiscordStandIn.start();
  slack = await startSlackStandIn(SLACK_TOKEN);
  stack = await openTestStack({
    prefix: 'e2e',
    env: {
      DEFAULT_MODEL: 'u2netp',
      PUBLIC_BASE_URL: 'https://bgremover.example.test',
      // The API
      API_KEYS: `e2e=${API_KEY}`,
      API_HOST: '127.0.0.1',
      API_PORT: '0',
      // Workers: fetch attachments from the stand-ins, deliver to them, recover fast from a crash.
      ATTACHMENT_HOSTS: '127.0.0.1',
      // The stand-ins serve attachments from loopback, which workers refuse unless opted in.
      ALLOW_PRIVATE_FETCH_HOSTS: '127.0.0.1',
      WORKER_LOCK_MS: '3000',
      WORKER_STALLED_INTERVAL_MS: '1000',
      DISCORD_TOKEN,
      DISCORD_API_URL: discord.apiUrl,
      SLACK_BOT_TOKEN: SLACK_TOKEN,
      SLACK_API_URL: slack.apiUrl,
      // The chat apps
      DISCORD_APPLICATION_ID: discord.applicationId,
      DISCORD_ATTACHMENT_HOSTS: '127.0.0.1',
      SLACK_SIGNING_SECRET: SLACK_SECRET,
      SLACK_HOST: '127.0.0.1',
      SLACK_PORT: '0',
      SLACK_FILE_HOSTS: '127.0.0.1',
    },
  });
  env = stack.env;
  stack.ownQueue(deliveryQueueName(stack.queueName, 'discord'));
  stack.ownQueue(deliveryQueueName(stack.queueName, 'slack'));
  // Closed last first: the workers, then the apps, then the API and the stand-ins.
  stack.defer(() => slack.close());
  stack.defer(() => discord.close());
  api = await buildApiServer(loadApiConfig(env));
  stack.defer(() => api.close());
  await api.app.listen({ host: '127.0.0.1', port: 0 });
  apiUrl = `http://127.0.0.1:${(api.app.server.address() as AddressInfo).port}`;
  const bot = await startDiscordBot(loadDiscordConfig(env), { logger: pino({ level: 'warn' }) });
  stack.defer(() => bot.close());
  slackApp = await startSlackApp(loadSlackConfig(env), { retryConfig: { retries: 0 } });
  stack.defer(() => slackApp.close());
  events = new QueueEvents(stack.queueName, {
    connection: redisConnection(stack.redisUrl, 'worker'),
  });
  stack.defer(() => events.close());
  await events.waitUntilReady();
  stack.defer(async () => {
    for (const worker of workers) if (worker.child.exitCode === null) worker.child.kill('SIGKILL');
    await Promise.all(workers.map((worker) => worker.exited));
  });
  workers.push(
    ...(await Promise.all([
      spawnWorkerProcess(workerMain, env, 'worker-a'),
      spawnWorkerProcess(workerMain, env, 'worker-b'),
    ])),
  );
}, 180_000);

afterAll(async () => {
  await stack?.close();
  await rm(scratch, { recursive: true, force: true });
});

const convert = (fields: Record<string, string>, filename: string, bytes: Buffer) =>
  convertFile(apiUrl, API_KEY, fields, bytes, filename);
const results = (uuid: string) => fetchResults(apiUrl, uuid);

describe('the whole system', () => {
  it('serves Discord, Slack and the API at once and survives a worker killed mid-video', async () => {
    const photo = await sharp(`${fixtures}coffee.png`).resize(140).png().toBuffer();
    const cat = await sharp(`${fixtures}chelsea.png`).resize(140).png().toBuffer();
    const clipPath = join(scratch, 'clip.mp4');
    await makeLavfiClip(clipPath, {
      video: 'testsrc2=size=192x144:rate=12:duration=4',
      audio: 'sine=frequency=330:duration=4',
    });
    const clip = await (await import('node:fs/promises')).readFile(clipPath);
    const completions = new Map<string, number>();
    events.on('completed', ({ jobId }) =>
      completions.set(jobId, (completions.get(jobId) ?? 0) + 1),
    );

    // Everything at once: three API requests (one a video), a Discord command, a Slack shortcut.
    const videoUuid = convert(
      { convert_to: 'video-backgroundremover', video_format: 'webm' },
      'clip.mp4',
      clip,
    );
    const imageUuids = Promise.all([
      convert({ convert_to: 'image-backgroundremover' }, 'cup.png', photo),
      convert(
        { convert_to: 'image-backgroundremover', bg_type: 'color', bg_color_value: '#00ff00' },
        'cat.png',
        cat,
      ),
    ]);
    const discordCommand = discord.slashCommand({
      file: discord.addAttachment('discord-cup.png', photo, 'image/png'),
    });
    const slackFile = slack.addFile('slack-cat.png', 'image/png', cat);
    const slackMessageTs = slack.nextTs();
    const slackAnswer = postSigned(
      `http://127.0.0.1:${slackApp.port}/slack/events`,
      SLACK_SECRET,
      interactivityBody({
        type: 'message_action',
        callback_id: 'remove_background',
        trigger_id: slack.triggerId(),
        message_ts: slackMessageTs,
        response_url: `${slack.origin}/response`,
        message: {
          type: 'message',
          user: 'U0AUTHOR',
          text: 'cat',
          ts: slackMessageTs,
          files: [slackFile],
        },
        user: { id: 'U0PERSON', name: 'person' },
        channel: { id: 'C0E2E', name: 'general' },
        team: { id: 'T1', domain: 'test' },
        token: 'legacy',
        action_ts: String(Date.now() / 1000),
      }),
      FORM,
    );
    const [video, [cupUuid, catUuid], slackResponse] = await Promise.all([
      videoUuid,
      imageUuids,
      slackAnswer,
    ]);
    expect(slackResponse.status).toBe(200);

    // Kill whichever worker runs the video once it has written some frames.
    const videoJobId = `${video}-0`;
    const victimId = await waitFor(async () => {
      const job = await api.context.queue.getJob(videoJobId);
      const progress = job?.progress as { framesDone?: number } | undefined;
      return (progress?.framesDone ?? 0) >= 3 && job?.processedBy;
    }, 120_000);
    const victim = workers.find((worker) => worker.id === victimId);
    expect(victim).toBeDefined();
    victim?.child.kill('SIGKILL');
    expect(await victim?.exited).toBeNull();

    // API: every request finishes with its files, the video included (taken over by the survivor).
    const finished = await Promise.all(
      [video, cupUuid, catUuid].map((uuid) =>
        waitFor(async () => {
          const current = await results(uuid);
          return current.finished && current;
        }, 240_000),
      ),
    );
    expect(finished.map((result) => result.files.map((file) => file.filename))).toEqual([
      ['clip_processed.webm'],
      ['cup_processed.png'],
      ['cat_processed.png'],
    ]);
    expect(finished.flatMap((result) => result.errors)).toEqual([]);
    // The worker marks the file done just before BullMQ records the job completed.
    const videoJob = await waitFor(async () => {
      const job = await api.context.queue.getJob(videoJobId);
      return job?.returnvalue ? job : undefined;
    }, 30_000);
    expect(videoJob.returnvalue.worker).not.toBe(victimId);
    const download = await fetch(`${apiUrl}${finished[0]?.files[0]?.url}`);
    expect(download.headers.get('content-type')).toBe('video/webm');

    // Discord: exactly one result follow-up for the command, with the PNG.
    const discordResults = () =>
      discord
        .find('POST', new RegExp(`^/webhooks/${discord.applicationId}/${discordCommand.token}$`))
        .filter((request) => request.status === 200 && request.files.length > 0);
    const [discordResult] = await discord.waitFor(
      () => discordResults().length > 0 && discordResults(),
      120_000,
    );
    expect(discordResult?.files[0]?.name).toBe('discord-cup_processed.png');

    // Slack: exactly one upload into the message's thread.
    const slackUploads = () =>
      slack
        .callsTo('files.completeUploadExternal')
        .filter((call) => call.params.thread_ts === slackMessageTs);
    await slack.waitForCall(
      'files.completeUploadExternal',
      (call) => call.params.thread_ts === slackMessageTs,
      120_000,
    );

    // Nothing lands twice: wait a little for stragglers, then count everything.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(discordResults()).toHaveLength(1);
    expect(slackUploads()).toHaveLength(1);
    const jobs = await api.context.queue.getJobs(['completed']);
    expect(jobs).toHaveLength(5);
    for (const job of jobs) expect(completions.get(job.id ?? '')).toBe(1);
    expect(await api.context.queue.getJobCounts('failed', 'waiting', 'active')).toEqual({
      failed: 0,
      waiting: 0,
      active: 0,
    });
  }, 420_000);
});
