import { fileURLToPath } from 'node:url';
import {
  type ConversionJobData,
  type ConversionJobResult,
  deliveryQueueName,
  openConversionQueue,
} from '@bgremover/jobs';
import { openTestStack } from '@bgremover/test-kit';
import type { SlackStandIn } from '@bgremover/test-kit/slack/stand-in';
import { loadWorkerConfig, type RunningWorker, startConversionWorker } from '@bgremover/worker';
import type { Queue } from 'bullmq';
import sharp from 'sharp';
import { type RunningSlackApp, startSlackApp } from '../src/app.js';
import { loadSlackConfig } from '../src/config.js';

export const BOT_TOKEN = 'xoxb-test-bot-token';
export const SIGNING_SECRET = 'test-signing-secret';
export const PUBLIC_BASE_URL = 'http://bgremover.example.test';
const fixtures = fileURLToPath(new URL('../../../fixtures/images/', import.meta.url));

/** The Slack app and a real worker on one fresh queue, both talking to the stand-in. */
export interface SlackStack {
  queueName: string;
  queue: Queue<ConversionJobData, ConversionJobResult>;
  storageDir: string;
  /** Where the app receives Slack's requests. */
  eventsUrl: string;
  app: RunningSlackApp;
  /** The worker, once started (at once unless `worker: false`). */
  worker: RunningWorker | undefined;
  /** Starts the worker (for stacks started without one). */
  startWorker(): Promise<RunningWorker>;
  close(): Promise<void>;
}

/**
 * Starts the real worker (in-process, the u2netp model, real Redis; it holds no Slack token)
 * and the Slack app in HTTP mode on a free loopback port (it downloads Slack files into
 * storage and runs its own delivery worker), on a fresh queue and storage folder.
 */
export async function startSlackStack(
  standIn: SlackStandIn,
  options: { maxUploadBytes?: number; worker?: boolean; queueNoticeAhead?: number } = {},
): Promise<SlackStack> {
  const stack = await openTestStack({
    prefix: 'test-slack',
    env: {
      DEFAULT_MODEL: 'u2netp',
      MAX_INPUT_BYTES: String(5 * 1024 * 1024),
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_HOST: '127.0.0.1',
      SLACK_PORT: '0',
      SLACK_API_URL: standIn.apiUrl,
      SLACK_FILE_HOSTS: '127.0.0.1',
      SLACK_MAX_UPLOAD_BYTES: String(options.maxUploadBytes ?? 10 * 1024 * 1024),
      SLACK_QUEUE_NOTICE_AHEAD: String(options.queueNoticeAhead ?? 2),
      PUBLIC_BASE_URL,
    },
  });
  const { env, queueName, redisUrl } = stack;
  stack.ownQueue(deliveryQueueName(queueName, 'slack'));
  const queue = openConversionQueue(redisUrl, queueName);
  stack.defer(() => queue.close());
  let worker: RunningWorker | undefined;
  const startWorker = async () => {
    if (!worker) {
      worker = await startConversionWorker(loadWorkerConfig(env));
      stack.defer(() => worker?.close());
    }
    return worker;
  };
  if (options.worker !== false) await startWorker();
  const app = await startSlackApp(loadSlackConfig(env), {
    retryConfig: { retries: 0 },
    progressIntervalMs: 300,
  });
  stack.defer(() => app.close());
  return {
    queueName,
    queue,
    storageDir: stack.storageDir,
    eventsUrl: `http://127.0.0.1:${app.port}/slack/events`,
    app,
    get worker() {
      return worker;
    },
    startWorker,
    close: () => stack.close(),
  };
}

/** A small PNG of a fixture photo (fast through the model). */
export function smallPhoto(width = 48): Promise<Buffer> {
  return sharp(`${fixtures}coffee.png`).resize(width).png().toBuffer();
}

/** The jobs, in any state, of a Slack file (their ids name it). */
export async function jobsForFile(stack: SlackStack, fileId: string) {
  const jobs = await stack.queue.getJobs([
    'waiting',
    'prioritized',
    'active',
    'completed',
    'failed',
  ]);
  return jobs.filter((job) => job.id?.includes(fileId));
}
