import { isBgRemoverError } from '@bgremover/core/contract';
import { enqueueConversion, jobsAheadOf } from '@bgremover/jobs';
import type { webApi } from '@slack/bolt';
import { queuedText } from './delivery/delivery-text.js';
import { DownloadRefusedError, downloadIntoStorage, slackInputKey } from './file-download.js';
import { type AcceptedFile, planJobs, type Refusal, type StartedJob } from './file-plan.js';
import type { HandlerDeps } from './handlers/deps.js';
import { jobParams, type RemovalOptions } from './removal-options.js';
import { jobFileName, type SlackFile } from './slack-files.js';
import { escapeMrkdwn, listNames } from './text.js';

/** Where results go and who asked: one Slack request, possibly several files. */
export interface SlackRequest {
  channel: string;
  userId: string;
  /**
   * The thread results go into; undefined for `/removebg`, whose thread the bot opens with a
   * message once at least one file is ready to be queued (never an announcement that stays empty).
   */
  threadTs: string | undefined;
  /** The message to mark ✅ or ❌ when a job ends (the reaction trigger only). */
  reactionTs?: string | undefined;
  /**
   * Unique per trigger and stable across Slack's retries of it (an event id, a trigger id, a
   * view id): it names the staged inputs and, with the file id, the job id.
   */
  requestKey: string;
  /** The job id of one file (default `slack-<requestKey>-<file id>`); the queue keeps one job per id. */
  jobIdOf?: (fileId: string) => string;
  options: RemovalOptions;
}

/** What came of a request: the jobs queued, the files refused, and the results' thread. */
export interface RequestOutcome {
  started: StartedJob[];
  refused: Refusal[];
  threadTs: string | undefined;
}

/**
 * Turns a request's files into jobs: checks each (type, size, host, parameters), downloads the
 * acceptable ones with the bot token into storage (workers hold no Slack token), opens the
 * results' thread when the request has none, queues one job per file with a Slack reply target,
 * and shows a picture's place in the queue when the queue is long. Nothing is posted in the
 * conversation unless at least one job is queued.
 */
export async function startRequest(
  deps: HandlerDeps,
  client: webApi.WebClient,
  request: SlackRequest,
  files: readonly SlackFile[],
): Promise<RequestOutcome> {
  const { config } = deps;
  const plan = planJobs(files, config, config.maxFilesPerRequest);
  const refused: Refusal[] = [...plan.refused];
  const prepared: { file: AcceptedFile; params: Record<string, unknown> }[] = [];
  for (const file of plan.accepted) {
    try {
      prepared.push({ file, params: jobParams(request.options, file.mediaKind) });
    } catch (error) {
      if (!isBgRemoverError(error)) throw error;
      refused.push({ name: file.name, reason: `${file.name}: ${error.message}` });
    }
  }
  const staged = await Promise.all(
    prepared.map(async (entry, index) => {
      const key = slackInputKey(request.requestKey, index, entry.file.name);
      try {
        await downloadIntoStorage(entry.file.url, entry.file.name, key, deps.storage, {
          token: config.botToken,
          fileHosts: config.fileHosts,
          maxBytes: config.maxInputBytes,
          timeoutMs: config.downloadTimeoutMs,
        });
        return { ...entry, key };
      } catch (error) {
        if (!(error instanceof DownloadRefusedError)) throw error;
        refused.push({ name: entry.file.name, reason: error.message });
        return undefined;
      }
    }),
  );
  const ready = staged.filter((entry) => entry !== undefined);
  if (ready.length === 0) return { started: [], refused, threadTs: request.threadTs };

  const threadTs =
    request.threadTs ??
    (await openResultThread(
      client,
      request.channel,
      request.userId,
      ready.map((entry) => entry.file.name),
    ));
  const started: StartedJob[] = [];
  for (const entry of ready) {
    const jobId = await enqueueConversion(
      deps.queue,
      {
        version: 1,
        mediaKind: entry.file.mediaKind,
        params: entry.params,
        input: { kind: 'storage', key: entry.key, filename: jobFileName(entry.file) },
        target: {
          kind: 'slack',
          channel: request.channel,
          threadTs,
          userId: request.userId,
          filename: entry.file.name,
          ...(request.reactionTs ? { reactionTs: request.reactionTs } : {}),
        },
        requestedAt: Date.now(),
      },
      request.jobIdOf?.(entry.file.id) ?? `slack-${request.requestKey}-${entry.file.id}`,
    );
    started.push({ name: entry.file.name, jobId });
  }
  await showQueuePositions(deps, client, request.channel, threadTs, started);
  return { started, refused, threadTs };
}

/**
 * Posts the message whose thread will hold `/removebg`'s results and returns its ts. Called
 * only once the bot is known to be in the conversation and a file is ready to be queued.
 */
async function openResultThread(
  client: webApi.WebClient,
  channel: string,
  user: string,
  names: readonly string[],
): Promise<string> {
  const listed = listNames(names.map((name) => escapeMrkdwn(name)));
  const posted = await client.chat.postMessage({
    channel,
    text: `<@${user}> asked me to remove the background from ${listed}; the results will appear in this thread.`,
  });
  if (!posted.ts) throw new Error('chat.postMessage returned no ts');
  return posted.ts;
}

/**
 * When a job has at least `queueNoticeAhead` jobs before it, says so in the thread (pictures
 * too, not only videos), and remembers the message so that progress and the result edit it.
 * Best effort: a failure is logged.
 */
async function showQueuePositions(
  deps: HandlerDeps,
  client: webApi.WebClient,
  channel: string,
  threadTs: string,
  started: readonly StartedJob[],
): Promise<void> {
  for (const job of started) {
    try {
      const ahead = await jobsAheadOf(deps.redis, deps.queue, [job.jobId]);
      if (ahead === undefined || ahead < deps.config.queueNoticeAhead || ahead === 0) continue;
      if (await deps.progressStore.get(job.jobId)) continue;
      const posted = await client.chat.postMessage({
        channel,
        thread_ts: threadTs,
        text: queuedText(job.name, ahead),
      });
      if (posted.ts) await deps.progressStore.set(job.jobId, posted.ts);
    } catch (error) {
      deps.logger.warn({ err: error, jobId: job.jobId }, 'could not show the queue position');
    }
  }
}
