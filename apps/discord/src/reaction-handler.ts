import type {
  Message,
  MessageReaction,
  PartialMessageReaction,
  PartialUser,
  User,
} from 'discord.js';
import { declaredKind } from './attachments.js';
import { attachmentInfo, type BotContext, limitSettings, prepareSettings } from './bot-context.js';
import { enqueueDiscordJob } from './enqueue-job.js';
import { takeJobAllowance } from './job-limits.js';
import { prepareFile } from './prepare-file.js';

/** A message reacted to is remembered this long, so reacting again does not start a second job. */
const REACTION_MEMORY_SECONDS = 7 * 24 * 3600;

/** True when a reaction's emoji is the configured trigger (a unicode emoji, a name or an id). */
export function isTriggerEmoji(
  emoji: { name: string | null; id: string | null },
  trigger: string,
): boolean {
  const plain = (text: string) => text.replace(/\uFE0F/g, '').trim();
  const wanted = plain(trigger);
  const custom = /^<a?:(\w+):(\d+)>$/.exec(wanted);
  if (custom) return emoji.id === custom[2];
  return emoji.id === wanted || plain(emoji.name ?? '') === wanted;
}

/**
 * The reaction trigger: the configured emoji on a guild message with an attachment processes
 * the message's first picture or video. The bot reacts ⏳, opens a thread on the message where
 * the worker posts the result, and the worker swaps ⏳ for ✅ or ❌. A message is processed once
 * however often it is reacted to (remembered in Redis). Messages without attachments are
 * ignored (the emoji is also just an emoji); every other refusal gets ❌ and a reply naming it.
 */
export async function handleReaction(
  reactionOrPartial: MessageReaction | PartialMessageReaction,
  user: User | PartialUser,
  bot: BotContext,
): Promise<void> {
  if (user.bot || user.id === reactionOrPartial.client.user.id) return;
  if (!isTriggerEmoji(reactionOrPartial.emoji, bot.config.reactionEmoji)) return;
  const message = reactionOrPartial.message.partial
    ? await reactionOrPartial.message.fetch()
    : reactionOrPartial.message;
  if (!message.inGuild() || message.attachments.size === 0) return;

  const memoryKey = `bgremover:discord:${bot.config.jobs.queueName}:reaction:${message.id}`;
  const first = await bot.redis.set(memoryKey, user.id, 'EX', REACTION_MEMORY_SECONDS, 'NX');
  if (first !== 'OK') {
    bot.logger.info({ message: message.id }, 'message already processed for a reaction');
    return;
  }
  const refuse = async (problem: string) => {
    await bot.redis.del(memoryKey);
    await refuseReaction(message, user.id, problem, bot);
  };

  const attachment = [...message.attachments.values()]
    .map(attachmentInfo)
    .find((candidate) => declaredKind(candidate) !== undefined);
  if (!attachment) {
    await refuse('none of its attachments is a picture or a video');
    return;
  }
  const prepared = await prepareFile({ attachment, chosen: {} }, prepareSettings(bot.config));
  if (!prepared.ok) {
    await refuse(prepared.problem);
    return;
  }
  const allowance = await takeJobAllowance(
    bot.redis,
    limitSettings(bot.config),
    { userId: user.id, guildId: message.guildId },
    1,
  );
  if (!allowance.ok) {
    await refuse(allowance.problem);
    return;
  }

  const pending = bot.config.pendingEmoji;
  const reacted = await message.react(pending).then(
    () => true,
    (error: Error) => {
      bot.logger.warn({ err: error, message: message.id }, 'could not add the pending reaction');
      return false;
    },
  );
  const threadId = await openThread(message, attachment.name, bot);
  try {
    await enqueueDiscordJob(
      bot.queue,
      prepared.prepared,
      {
        kind: 'discord',
        channelId: message.channelId,
        messageId: message.id,
        ...(threadId ? { threadId } : {}),
        userId: user.id,
        guildId: message.guildId,
        trigger: 'reaction',
        ...(reacted ? { pendingReaction: pending } : {}),
      },
      `discord-reaction-${message.id}-${attachment.id}`,
    );
  } catch (error) {
    bot.logger.error({ err: error, message: message.id }, 'could not queue a reaction request');
    await refuse('the request could not be queued (internal error); react again to retry');
  }
}

/**
 * Opens a thread on the message for the result. A message already inside a thread (or a
 * channel without threads) cannot have one: then the worker replies to the message instead.
 */
async function openThread(
  message: Message<true>,
  filename: string,
  bot: BotContext,
): Promise<string | undefined> {
  if (message.channel.isThread() || !('threads' in message.channel)) return undefined;
  try {
    const thread = await message.startThread({
      name: `Background removed: ${filename}`.slice(0, 100),
    });
    return thread.id;
  } catch (error) {
    bot.logger.warn(
      { err: error, message: message.id },
      'could not open a thread; the result will be a reply to the message',
    );
    return undefined;
  }
}

async function refuseReaction(
  message: Message<true>,
  userId: string,
  problem: string,
  bot: BotContext,
): Promise<void> {
  try {
    await message.react('❌');
    await message.reply({
      content: `❌ <@${userId}> I can't remove the background here: ${problem}`.slice(0, 2000),
      allowedMentions: { users: [userId], repliedUser: false },
    });
  } catch (error) {
    bot.logger.warn({ err: error, message: message.id, problem }, 'could not post a refusal');
  }
}
