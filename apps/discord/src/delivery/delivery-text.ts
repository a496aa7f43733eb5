import type { JobProgress } from '@bgremover/jobs';

/** The deferred reply's text while a video is being processed, e.g. `clip.mp4: 40% (12/30 frames)`. */
export function progressLine(filename: string | undefined, progress: JobProgress): string {
  const name = filename ?? 'your file';
  const frames =
    progress.framesDone !== undefined
      ? progress.framesTotal
        ? ` (${progress.framesDone}/${progress.framesTotal} frames)`
        : ` (${progress.framesDone} frames)`
      : '';
  return `Removing the background from ${name}: ${Math.round(progress.percent)}%${frames}`;
}

/** Warnings from the pipeline, as a short block appended to the result message. */
export function warningLines(warnings: readonly string[]): string {
  return warnings.length === 0 ? '' : `\n${warnings.map((warning) => `⚠️ ${warning}`).join('\n')}`;
}

/** Discord rejects message content over 2000 characters; long texts are cut with an ellipsis. */
export function fitMessage(text: string, limit = 2000): string {
  return text.length <= limit ? text : `${text.slice(0, limit - 1)}…`;
}
