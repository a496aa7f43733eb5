import { appKey } from '@bgremover/jobs';
import {
  type Message,
  type MessageReaction,
  type PartialMessageReaction,
  type PartialUser,
  Routes,
  type User,
} from 'discord.js';
import { declaredKind } from './attachments.js';
import { type BotContext, limitSettings, prepareSettings, stageSettings } from './bot-context.js';
import { isThreadAlreadyCreated } from './delivery/discord-errors.js';
import { enqueueDiscordJob } from './enqueue-job.js';
import { takeJobAllowance } from './job-limits.js';
import { messageFiles } from './message-files.js';
import { type PreparedFile, prepareFile } from './prepare-file.js';
import { freshenAttachments } from './stage-input.js';

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
 * The reaction trigger: the configured emoji on a guild message with attachments (its own, or
 * a forward's) processes every picture or video on it, up to DISCORD_MAX_FILES_PER_MESSAGE. The
 * bot reacts with the pending emoji, uses the message's thread (opening one when it has none)
 * where the app's delivery shows progress and posts the results, and swaps the pending emoji for
 * ✅ or ❌. A message is processed once however often it is reacted to (remembered in Redis).
 * Messages without attachments are ignored (the emoji is also just an emoji); every other refusal
 * gets ❌ and a reply naming it.
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
  if (!message.inGuild()) return;
  const files = messageFiles(message);
  if (files.length === 0) return;

  const memoryKey = appKey(bot.config.jobs.queueName, 'discord', 'reaction', message.id);
  const first = await bot.redis.set(memoryKey, user.id, 'EX', REACTION_MEMORY_SECONDS, 'NX');
  if (first !== 'OK') {
    bot.logger.info({ message: message.id }, 'message already processed for a reaction');
    return;
  }
  const refuse = async (problem: string) => {
    await bot.redis.del(memoryKey);
    await refuseReaction(message, user.id, problem, bot);
  };

  const media = files.filter((candidate) => declaredKind(candidate) !== undefined);
  if (media.length === 0) {
    await refuse('none of its attachments is a picture or a video');
    return;
  }
  const chosen = await freshenAttachments(bot.rest, media.slice(0, bot.config.maxFilesPerMessage));
  const accepted: PreparedFile[] = [];
  const problems: string[] = [];
  for (const attachment of chosen) {
    const prepared = await prepareFile({ attachment, chosen: {} }, prepareSettings(bot.config));
    if (prepared.ok) accepted.push(prepared.prepared);
    else problems.push(prepared.problem);
  }
  if (accepted.length === 0) {
    await refuse(problems.join('; '));
    return;
  }
  const allowance = await takeJobAllowance(
    bot.redis,
    limitSettings(bot.config),
    { userId: user.id, guildId: message.guildId },
    accepted.length,
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
  const names = accepted.map((file) => file.request.attachment.name);
  const threadId = await resultThread(message, names.join(', '), bot);
  if (problems.length > 0) await noteProblems(message, threadId, user.id, problems, bot);
  try {
    for (const file of accepted) {
      await enqueueDiscordJob(
        bot.queue,
        file,
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
        `discord-reaction-${message.id}-${file.request.attachment.id}`,
        stageSettings(bot),
      );
    }
  } catch (error) {
    bot.logger.error({ err: error, message: message.id }, 'could not queue a reaction request');
    await refuse('the request could not be queued (internal error); react again to retry');
  }
}

/**
 * The thread the results go into. A thread started from a message has the message's id, and a
 * message has at most one (https://discord.com/developers/docs/resources/channel#start-thread-from-message):
 * a message that already has one gets its results there, and a 160004 answer (another thread
 * opened it first) means the same. A message inside a thread, or in a channel without threads,
 * cannot have one: then the results are replies to the message.
 */
async function resultThread(
  message: Message<true>,
  names: string,
  bot: BotContext,
): Promise<string | undefined> {
  if (message.channel.isThread() || !('threads' in message.channel)) return undefined;
  if (message.hasThread) return message.id;
  try {
    const thread = await message.startThread({
      name: `Background removed: ${names}`.slice(0, 100),
    });
    return thread.id;
  } catch (error) {
    if (isThreadAlreadyCreated(error)) return message.id;
    bot.logger.warn(
      { err: error, message: message.id },
      'could not open a thread; the result will be a reply to the message',
    );
    return undefined;
  }
}

/** Files of the message that were refused while others go ahead: said where the results go. */
async function noteProblems(
  message: Message<true>,
  threadId: string | undefined,
  userId: string,
  problems: string[],
  bot: BotContext,
): Promise<void> {
  const content = `<@${userId}> Not processed: ${problems.map((p) => `❌ ${p}`).join('\n')}`;
  try {
    await bot.rest.post(Routes.channelMessages(threadId ?? message.channelId), {
      body: { content: content.slice(0, 2000), allowed_mentions: { users: [userId] } },
    });
  } catch (error) {
    bot.logger.warn({ err: error, message: message.id }, 'could not note the refused files');
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
