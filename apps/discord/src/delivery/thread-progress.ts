import type { PlatformTarget } from '@bgremover/jobs';
import { appKey } from '@bgremover/jobs';
import { type REST, Routes } from 'discord.js';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { fitMessage } from './delivery-text.js';

/** How long a job's progress message id is remembered. */
const MESSAGE_MEMORY_SECONDS = 6 * 3600;

/**
 * Progress for the reaction flow: one message in the reaction's thread (or the message's
 * channel), posted with the first report and edited after. The message's id lives in Redis, so
 * that one app process posts it and every process edits the same message.
 */
export class ThreadProgress {
  constructor(
    private readonly rest: REST,
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly logger: Logger,
  ) {}

  /** Shows `line` as the job's progress. */
  async show(target: PlatformTarget<'discord'>, jobId: string, line: string): Promise<void> {
    const key = this.key(jobId);
    const channelId = target.threadId ?? target.channelId;
    const claimed = await this.redis.set(key, 'posting', 'EX', MESSAGE_MEMORY_SECONDS, 'NX');
    if (claimed === 'OK') {
      const posted = (await this.rest.post(Routes.channelMessages(channelId), {
        body: { content: fitMessage(line), allowed_mentions: { parse: [] } },
      })) as { id: string };
      await this.redis.set(key, posted.id, 'EX', MESSAGE_MEMORY_SECONDS);
      return;
    }
    const messageId = await this.redis.get(key);
    if (!messageId || messageId === 'posting') return;
    await this.rest.patch(Routes.channelMessage(channelId, messageId), {
      body: { content: fitMessage(line) },
    });
  }

  /** The job ended: its progress message (when there is one) says so. Best effort. */
  async finish(target: PlatformTarget<'discord'>, jobId: string, line: string): Promise<void> {
    const messageId = await this.redis.getdel(this.key(jobId)).catch(() => null);
    if (!messageId || messageId === 'posting') return;
    const channelId = target.threadId ?? target.channelId;
    await this.rest
      .patch(Routes.channelMessage(channelId, messageId), { body: { content: fitMessage(line) } })
      .catch((error: Error) =>
        this.logger.info({ err: error, jobId }, 'could not edit the progress message'),
      );
  }

  private key(jobId: string): string {
    return appKey(this.prefix, 'discord', 'progress-message', jobId);
  }
}
