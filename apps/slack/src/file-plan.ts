import type { webApi } from '@slack/bolt';
import { slackErrorCode } from './replies.js';
import {
  checkSlackFile,
  type FileCheck,
  type FileRules,
  parseSlackFiles,
  type SlackFile,
} from './slack-files.js';

export type AcceptedFile = Extract<FileCheck, { ok: true }>;
/** A file that will not be worked on, and why (in words for the person who asked). */
export interface Refusal {
  name: string;
  reason: string;
}

/** A job that was added to the queue (or found there already, for a retried trigger). */
export interface StartedJob {
  name: string;
  jobId: string;
}

/** Which files of a request can become jobs, and why the others cannot. */
export interface JobPlan {
  accepted: AcceptedFile[];
  refused: Refusal[];
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
