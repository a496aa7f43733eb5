import {
  type ChatPlatform,
  type DeliveryJobData,
  type DeliveryOutcome,
  enqueueDelivery,
  openDeliveryQueue,
  type ReplyTarget,
} from '@bgremover/jobs';
import type { Queue } from 'bullmq';
import type { DeliverableResult, ReplyAdapter, ReplyContext } from './adapter.js';

type ChatTarget = Extract<ReplyTarget, { kind: ChatPlatform }>;

/**
 * Delivers chat targets by handing the outcome to the platform's delivery queue, where the chat
 * app posts it with its own token. The worker holds no chat credentials and never re-runs the
 * model for a chat delivery that fails: those are retried from the delivery queue.
 */
export class DeliveryQueueAdapter implements ReplyAdapter<ChatTarget> {
  private readonly queues = new Map<ChatPlatform, Queue<DeliveryJobData>>();

  constructor(
    private readonly redisUrl: string,
    private readonly conversionQueueName: string,
    /** How long finished deliveries are kept (as long as results). */
    private readonly retentionMs: number,
  ) {}

  async deliverResult(
    target: ChatTarget,
    result: DeliverableResult,
    context: ReplyContext,
  ): Promise<void> {
    await this.handOff(target, context, {
      kind: 'result',
      resultKey: result.resultKey,
      filename: result.filename,
      contentType: result.contentType,
      bytes: result.bytes,
      model: result.model,
      warnings: result.warnings,
    });
  }

  async deliverFailure(target: ChatTarget, message: string, context: ReplyContext): Promise<void> {
    await this.handOff(target, context, { kind: 'failure', message });
  }

  /** Closes the delivery queues' connections. */
  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((queue) => queue.close()));
    this.queues.clear();
  }

  private async handOff(
    target: ChatTarget,
    context: ReplyContext,
    outcome: DeliveryOutcome,
  ): Promise<void> {
    await enqueueDelivery(
      this.queueFor(target.kind),
      { version: 1, conversionJobId: context.jobId, target, outcome, finishedAt: Date.now() },
      this.retentionMs,
    );
  }

  private queueFor(platform: ChatPlatform): Queue<DeliveryJobData> {
    let queue = this.queues.get(platform);
    if (!queue) {
      queue = openDeliveryQueue(this.redisUrl, this.conversionQueueName, platform, 'worker');
      this.queues.set(platform, queue);
    }
    return queue;
  }
}
