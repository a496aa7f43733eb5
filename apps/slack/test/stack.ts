import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type ConversionJobData,
  type ConversionJobResult,
  openConversionQueue,
} from '@bgremover/jobs';
import {
  createSlackReplyAdapter,
  loadWorkerConfig,
  type RunningWorker,
  startConversionWorker,
} from '@bgremover/worker';
import type { Queue } from 'bullmq';
import sharp from 'sharp';
import { type RunningSlackApp, startSlackApp } from '../src/app.js';
import { loadSlackConfig } from '../src/config.js';
import type { SlackStandIn } from '../../../test-support/slack/slack-stand-in.js';

export const BOT_TOKEN = 'xoxb-test-bot-token';
export const SIGNING_SECRET = 'test-signing-secret';
export const PUBLIC_BASE_URL = 'http://bgremover.example.test';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const fixtures = fileURLToPath(new URL('../../../fixtures/images/', import.meta.url));

/** The Slack app and a real worker on one fresh queue, both talking to the stand-in. */
export interface SlackStack {
  queueName: string;
  queue: Queue<ConversionJobData, ConversionJobResult>;
  /** Where the app receives Slack's requests. */
  eventsUrl: string;
  app: RunningSlackApp;
  worker: RunningWorker;
  close(): Promise<void>;
}

/**
 * Starts the real worker (in-process, the u2netp model, real Redis) with the Slack adapter, and
 * the Slack app in HTTP mode on a free loopback port, on a fresh queue and storage folder.
 */
export async function startSlackStack(
  standIn: SlackStandIn,
  options: { maxUploadBytes?: number } = {},
): Promise<SlackStack> {
  const queueName = `test-slack-${randomUUID().slice(0, 8)}`;
  const storageDir = await mkdtemp(join(tmpdir(), 'bgremover-slack-test-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    REDIS_URL,
    QUEUE_NAME: queueName,
    STORAGE_DIR: storageDir,
    DEFAULT_MODEL: 'u2netp',
    HEALTH_PORT: '0',
    HEALTH_HOST: '127.0.0.1',
    ATTACHMENT_HOSTS: '127.0.0.1',
    // The stand-ins serve attachments from loopback, which workers refuse unless opted in.
    ALLOW_PRIVATE_FETCH_HOSTS: '127.0.0.1',
    MAX_INPUT_BYTES: String(5 * 1024 * 1024),
    LOG_LEVEL: 'warn',
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_HOST: '127.0.0.1',
    SLACK_PORT: '0',
    SLACK_API_URL: standIn.apiUrl,
    SLACK_FILE_HOSTS: '127.0.0.1',
  };
  const worker = await startConversionWorker(loadWorkerConfig(env), {
    adapters: {
      slack: createSlackReplyAdapter({
        token: BOT_TOKEN,
        apiUrl: standIn.apiUrl,
        publicBaseUrl: PUBLIC_BASE_URL,
        maxUploadBytes: options.maxUploadBytes ?? 10 * 1024 * 1024,
        progressIntervalMs: 300,
        retryConfig: { retries: 0 },
      }),
    },
    slackBotToken: BOT_TOKEN,
  });
  const app = await startSlackApp(loadSlackConfig(env), { retryConfig: { retries: 0 } });
  const queue = openConversionQueue(REDIS_URL, queueName);
  return {
    queueName,
    queue,
    eventsUrl: `http://127.0.0.1:${app.port}/slack/events`,
    app,
    worker,
    close: async () => {
      await app.close();
      await worker.close();
      await queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close();
      await rm(storageDir, { recursive: true, force: true });
    },
  };
}

/** A small PNG of a fixture photo (fast through the model). */
export function smallPhoto(width = 48): Promise<Buffer> {
  return sharp(`${fixtures}coffee.png`).resize(width).png().toBuffer();
}
