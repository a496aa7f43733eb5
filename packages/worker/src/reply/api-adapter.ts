import type { ApiRequestStore, ReplyTarget } from '@bgremover/jobs';
import type { DeliverableResult, JobProgress, ReplyAdapter } from './adapter.js';

type ApiTarget = Extract<ReplyTarget, { kind: 'api' }>;

/**
 * Delivers to the HTTP API: marks the request's file started when its job begins, then done
 * (with the result's storage key, which `/v1/results/` turns into a download URL) or failed
 * (with the message). Idempotent.
 */
export class ApiReplyAdapter implements ReplyAdapter<ApiTarget> {
  constructor(private readonly requests: ApiRequestStore) {}

  async deliverResult(target: ApiTarget, result: DeliverableResult): Promise<void> {
    await this.requests.markDone(target.requestId, target.fileIndex, {
      resultKey: result.resultKey,
      resultFilename: result.filename,
      contentType: result.contentType,
      warnings: result.warnings,
    });
  }

  async reportProgress(target: ApiTarget, progress: JobProgress): Promise<void> {
    // Only the first stage matters to the API: from then on nothing is ahead of the request.
    if (progress.stage === 'fetching') {
      await this.requests.markStarted(target.requestId, target.fileIndex);
    }
  }

  async deliverFailure(target: ApiTarget, message: string): Promise<void> {
    await this.requests.markFailed(target.requestId, target.fileIndex, message);
  }
}
