import {
  type ChatInputCommandInteraction,
  type MessageContextMenuCommandInteraction,
  MessageFlags,
  type RepliableInteraction,
} from 'discord.js';
import { declaredKind } from './attachments.js';
import { attachmentInfo, type BotContext, limitSettings, prepareSettings } from './bot-context.js';
import { slashOptions } from './commands.js';
import { type DiscordTarget, enqueueDiscordJob } from './enqueue-job.js';
import { takeJobAllowance } from './job-limits.js';
import { type FileRequest, type PreparedFile, precheckFile, prepareFile } from './prepare-file.js';

/** Discord's upload limit for bots when an interaction does not state one. */
const DEFAULT_UPLOAD_LIMIT = 10 * 1024 * 1024;
/** How long an interaction token works after the interaction was created. */
const INTERACTION_TOKEN_LIFETIME_MS = 15 * 60 * 1000;

/**
 * `/removebg`: checks the options and the attachment's declared type and size at once (refusals
 * are ephemeral replies naming the problem), defers (ephemerally, well within 3 s), inspects
 * the bytes, takes the job allowance and enqueues one job; the worker posts the result as a
 * follow-up.
 */
export async function handleSlashCommand(
  interaction: ChatInputCommandInteraction,
  bot: BotContext,
): Promise<void> {
  const options = interaction.options;
  const background = options.getAttachment(slashOptions.bgImage);
  const request: FileRequest = {
    attachment: attachmentInfo(options.getAttachment(slashOptions.file, true)),
    chosen: {
      model: options.getString(slashOptions.model) ?? undefined,
      format: options.getString(slashOptions.format) ?? undefined,
      alphaMatting: options.getBoolean(slashOptions.alphaMatting) ?? undefined,
      onlyMask: options.getBoolean(slashOptions.onlyMask) ?? undefined,
      bgColor: options.getString(slashOptions.bgColor) ?? undefined,
    },
    background: background ? attachmentInfo(background) : undefined,
  };
  const pre = precheckFile(request, prepareSettings(bot.config));
  if (!pre.ok) {
    await interaction.reply({ content: `❌ ${pre.problem}`, flags: MessageFlags.Ephemeral });
    return;
  }
  await interaction.deferReply({ flags: MessageFlags.Ephemeral });
  await acceptFiles(interaction, [request], [], bot, { trigger: 'command' });
}

/**
 * "Remove background" on a message: every picture or video attachment (up to the configured
 * number), with default options. A message without one gets an ephemeral reply saying so.
 */
export async function handleContextMenu(
  interaction: MessageContextMenuCommandInteraction,
  bot: BotContext,
): Promise<void> {
  const message = interaction.targetMessage;
  const attachments = [...message.attachments.values()].map(attachmentInfo);
  const media = attachments.filter((attachment) => declaredKind(attachment) !== undefined);
  if (media.length === 0) {
    const names = attachments.map((attachment) => attachment.name).join(', ');
    const content =
      attachments.length === 0
        ? '❌ That message has no attachments; pick a message with a picture or a video.'
        : `❌ None of that message's attachments is a picture or a video (${names}).`;
    await interaction.reply({ content, flags: MessageFlags.Ephemeral });
    return;
  }
  const max = bot.config.maxFilesPerMessage;
  const notes =
    media.length > max
      ? [`Only the first ${max} of ${media.length} attachments are processed.`]
      : [];
  const requests = media.slice(0, max).map((attachment) => ({ attachment, chosen: {} }));
  const settings = prepareSettings(bot.config);
  const prechecked = requests.map((request) => precheckFile(request, settings));
  if (prechecked.every((check) => !check.ok)) {
    const problems = prechecked.map((check) => (check.ok ? '' : `❌ ${check.problem}`));
    await interaction.reply({ content: problems.join('\n'), flags: MessageFlags.Ephemeral });
    return;
  }
  await interaction.deferReply({ flags: MessageFlags.Ephemeral });
  await acceptFiles(interaction, requests, notes, bot, {
    trigger: 'context-menu',
    messageId: message.id,
  });
}

/**
 * After the deferral: inspects each file, takes the allowance for those that pass, enqueues
 * them, and edits the deferred reply into a summary (what is being worked on, what was refused
 * and why).
 */
async function acceptFiles(
  interaction: RepliableInteraction,
  requests: FileRequest[],
  notes: string[],
  bot: BotContext,
  extra: { trigger: 'command' | 'context-menu'; messageId?: string },
): Promise<void> {
  try {
    const settings = prepareSettings(bot.config);
    const accepted: PreparedFile[] = [];
    const lines = [...notes];
    for (const request of requests) {
      const outcome = await prepareFile(request, settings);
      if (outcome.ok) accepted.push(outcome.prepared);
      else lines.push(`❌ ${outcome.problem}`);
    }
    if (accepted.length > 0) {
      const allowance = await takeJobAllowance(
        bot.redis,
        limitSettings(bot.config),
        { userId: interaction.user.id, guildId: interaction.guildId ?? undefined },
        accepted.length,
      );
      if (!allowance.ok) {
        lines.push(`❌ Not started: ${allowance.problem}.`);
        accepted.length = 0;
      }
    }
    const target: DiscordTarget = {
      kind: 'discord',
      channelId: interaction.channelId ?? '',
      userId: interaction.user.id,
      ...(interaction.guildId ? { guildId: interaction.guildId } : {}),
      ...(extra.messageId ? { messageId: extra.messageId } : {}),
      trigger: extra.trigger,
      interaction: {
        applicationId: interaction.applicationId,
        token: interaction.token,
        attachmentSizeLimit: interaction.attachmentSizeLimit ?? DEFAULT_UPLOAD_LIMIT,
        expiresAt: interaction.createdTimestamp + INTERACTION_TOKEN_LIFETIME_MS,
      },
    };
    if (accepted.length > 0) {
      const names = accepted.map((file) => file.request.attachment.name).join(', ');
      lines.unshift(`Working on ${names}; the result will be posted here.`);
    }
    // The summary goes out before the jobs exist, so a fast worker's final edit of this reply
    // cannot be overwritten by it.
    await interaction.editReply({ content: lines.join('\n').slice(0, 2000) });
    for (const file of accepted) {
      const key = `discord-${interaction.id}-${file.request.attachment.id}`;
      await enqueueDiscordJob(bot.queue, file, target, key);
    }
  } catch (error) {
    bot.logger.error({ err: error, interaction: interaction.id }, 'could not queue the request');
    await interaction
      .editReply({ content: '❌ The request could not be queued (internal error); try again.' })
      .catch(() => undefined);
  }
}
