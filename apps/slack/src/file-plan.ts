import { isBgRemoverError } from '@bgremover/core';
import {
  type ConversionJobData,
  type ConversionJobResult,
  enqueueConversion,
} from '@bgremover/jobs';
import type { webApi } from '@slack/bolt';
import type { Queue } from 'bullmq';
import { jobParams, type RemovalOptions } from './removal-options.js';
import { slackErrorCode } from './replies.js';
import {
  checkSlackFile,
  type FileCheck,
  type FileRules,
  jobFileName,
  parseSlackFiles,
  type SlackFile,
} from './slack-files.js';

export type AcceptedFile = Extract<FileCheck, { ok: true }>;
export interface Refusal {
  name: string;
  reason: string;
}

/** Which files of a request can become jobs, and why the others cannot. */
export interface JobPlan {
  accepted: AcceptedFile[];
  refused: Refusal[];
}

/** Where results go and who asked: one Slack request, possibly several files. */
export interface SlackRequest {
  channel: string;
  /** The thread results are posted into. */
  threadTs: string;
  userId: string;
  /** The message to mark ✅ or ❌ when a job ends (the reaction trigger only). */
  reactionTs?: string | undefined;
  /**
   * Unique per trigger and stable across Slack's retries of it (an event id, a trigger id, a
   * view id): with the file id it becomes the job id, so a retried trigger never runs twice.
   */
  requestKey: string;
  options: RemovalOptions;
}

/** A job that was added to the queue (or found there already, for a retried trigger). */
export interface StartedJob {
  name: string;
  jobId: string;
}

/**
 * Fills in files Slack sent as stubs (`file_access: check_file_info`, or without a download
 * URL) with files.info. A file that cannot be looked up is kept as is and refused later.
 */
export async function completeFiles(
  client: webApi.WebClient,
  files: readonly SlackFile[],
): Promise<SlackFile[]> {
  return Promise.all(
    files.map(async (file) => {
      if (
        file.file_access !== 'check_file_info' &&
        (file.url_private_download || file.url_private)
      ) {
        return file;
      }
      const info = await lookUpFile(client, file.id);
      return info ?? file;
    }),
  );
}

/** files.info for one id: the file, or undefined when Slack does not show it to the bot. */
export async function lookUpFile(
  client: webApi.WebClient,
  fileId: string,
): Promise<SlackFile | undefined> {
  try {
    const answer = await client.files.info({ file: fileId });
    return parseSlackFiles([answer.file])[0];
  } catch (error) {
    if (slackErrorCode(error) !== undefined) return undefined;
    throw error;
  }
}

/**
 * Checks every file of a request against the rules (type, size, host) without side effects, and
 * keeps at most `maxFiles` of the acceptable ones.
 */
export function planJobs(files: readonly SlackFile[], rules: FileRules, maxFiles: number): JobPlan {
  const plan: JobPlan = { accepted: [], refused: [] };
  for (const file of files) {
    const check = checkSlackFile(file, rules);
    if (!check.ok) plan.refused.push({ name: check.name, reason: check.reason });
    else if (plan.accepted.length >= maxFiles) {
      plan.refused.push({
        name: check.name,
        reason: `${check.name} was skipped: one request takes at most ${maxFiles} files`,
      });
    } else plan.accepted.push(check);
  }
  return plan;
}

/**
 * Adds one job per accepted file, each with a Slack reply target into the request's thread and
 * the bot token as the input's credential (added by the worker; never stored). Parameters are
 * validated by core's schemas; a file whose parameters core refuses is returned as refused.
 */
export async function enqueueJobs(
  queue: Queue<ConversionJobData, ConversionJobResult>,
  request: SlackRequest,
  accepted: readonly AcceptedFile[],
): Promise<{ started: StartedJob[]; refused: Refusal[] }> {
  const started: StartedJob[] = [];
  const refused: Refusal[] = [];
  for (const file of accepted) {
    let params: Record<string, unknown>;
    try {
      params = jobParams(request.options, file.mediaKind);
    } catch (error) {
      if (!isBgRemoverError(error)) throw error;
      refused.push({ name: file.name, reason: `${file.name}: ${error.message}` });
      continue;
    }
    const jobId = await enqueueConversion(
      queue,
      {
        version: 1,
        mediaKind: file.mediaKind,
        params,
        input: { kind: 'url', url: file.url, filename: jobFileName(file), auth: 'slack-bot' },
        target: {
          kind: 'slack',
          channel: request.channel,
          threadTs: request.threadTs,
          userId: request.userId,
          filename: file.name,
          ...(request.reactionTs ? { reactionTs: request.reactionTs } : {}),
        },
        requestedAt: Date.now(),
      },
      `slack-${request.requestKey}-${file.id}`,
    );
    started.push({ name: file.name, jobId });
  }
  return { started, refused };
}
