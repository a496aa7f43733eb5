import type { JobProgress } from '@bgremover/jobs';
import { escapeMrkdwn } from '../text.js';

/** `<@U123> ` when the requester is known, so Slack notifies them; empty otherwise. */
export function mention(userId: string | undefined): string {
  return userId ? `<@${userId}> ` : '';
}

/** One line per warning, prefixed so people see the result was not quite what they asked. */
export function warningLines(warnings: readonly string[]): string {
  return warnings.map((warning) => `\n:warning: ${escapeMrkdwn(warning)}`).join('');
}

/** The progress message's text for one job: stage, percent, and frames for videos. */
export function progressText(filename: string, progress: JobProgress): string {
  const name = escapeMrkdwn(filename);
  switch (progress.stage) {
    case 'fetching':
      return `:hourglass_flowing_sand: ${name}: fetching the file…`;
    case 'processing': {
      const frames =
        progress.framesTotal !== undefined
          ? ` (${progress.framesDone ?? 0} of ${progress.framesTotal} frames)`
          : '';
      return `:hourglass_flowing_sand: ${name}: removing the background, ${Math.round(progress.percent)}%${frames}`;
    }
    case 'storing':
    case 'delivering':
      return `:hourglass_flowing_sand: ${name}: uploading the result…`;
  }
}

/** The message a queued job shows while others run before it. */
export function queuedText(filename: string, ahead: number): string {
  const jobs = ahead === 1 ? '1 job' : `${ahead} jobs`;
  return `:hourglass: ${escapeMrkdwn(filename)}: waiting in the queue, ${jobs} ahead of it…`;
}
