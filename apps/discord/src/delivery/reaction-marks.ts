import type { PlatformTarget } from '@bgremover/jobs';
import { type REST, Routes } from 'discord.js';
import type { Logger } from 'pino';
import { reactionRouteEmoji } from './reaction-emoji.js';

/**
 * The reaction flow's marks on the reacted message: ✅ or ❌ once the job ends, and the pending
 * reaction (⏳ or a custom `<:name:id>`) taken away. Best effort: a channel where the bot may not
 * react is logged, never retried.
 */
export class ReactionMarks {
  constructor(
    private readonly rest: REST,
    private readonly logger: Logger,
    private readonly successEmoji = '✅',
    private readonly failureEmoji = '❌',
  ) {}

  /** Puts ✅ (ok) or ❌ on the message, then removes the pending reaction. */
  async finish(target: PlatformTarget<'discord'>, ok: boolean): Promise<void> {
    if (target.trigger !== 'reaction' || !target.messageId) return;
    const { channelId, messageId } = target;
    const emoji = ok ? this.successEmoji : this.failureEmoji;
    await this.rest
      .put(Routes.channelMessageOwnReaction(channelId, messageId, reactionRouteEmoji(emoji)))
      .catch((error: Error) =>
        this.logger.warn({ err: error, messageId }, 'could not add the final reaction'),
      );
    if (!target.pendingReaction) return;
    await this.rest
      .delete(
        Routes.channelMessageOwnReaction(
          channelId,
          messageId,
          reactionRouteEmoji(target.pendingReaction),
        ),
      )
      .catch((error: Error) =>
        this.logger.warn({ err: error, messageId }, 'could not remove the pending reaction'),
      );
  }
}
