import {
  type ChatInputCommandInteraction,
  type MessageContextMenuCommandInteraction,
  MessageFlags,
  type RepliableInteraction,
} from 'discord.js';
import { declaredKind } from './attachments.js';
import {
  attachmentInfo,
  type BotContext,
  limitSettings,
  prepareSettings,
  stageSettings,
} from './bot-context.js';
import { slashOptions } from './commands.js';
import { DEFAULT_UPLOAD_LIMIT } from './delivery/upload-limits.js';
import { type DiscordTarget, enqueueDiscordJob } from './enqueue-job.js';
import { takeJobAllowance } from './job-limits.js';
import { linkRequest } from './link-request.js';
import { messageFiles } from './message-files.js';
import { type FileRequest, type PreparedFile, precheckFile, prepareFile } from './prepare-file.js';
import { freshenAttachments } from './stage-input.js';

/**
 * How long an interaction token works after the interaction was created
 * (https://discord.com/developers/docs/interactions/receiving-and-responding#responding-to-an-interaction).
 */
const INTERACTION_TOKEN_LIFETIME_MS = 15 * 60 * 1000;

/**
 * `/removebg` (in a server or a DM with the bot): checks the options, the link or the
 * attachment's declared type and size at once (refusals are ephemeral replies naming the
 * problem), defers (ephemerally, well within 3 s), inspects the bytes, takes the job allowance
 * and enqueues one job; the app's delivery posts the result as a follow-up.
 */
export async function handleSlashCommand(
  interaction: ChatInputCommandInteraction,
  bot: BotContext,
): Promise<void> {
  const options = interaction.options;
  const file = options.getAttachment(slashOptions.file);
  const link = options.getString(slashOptions.url);
  const refuse = (problem: string) =>
    interaction.reply({ content: `❌ ${problem}`, flags: MessageFlags.Ephemeral });
  if ((file && link) || (!file && !link)) {
    await refuse('Give the picture or clip as `file` or as `url` (one of the two).');
    return;
  }
  let attachment = file ? attachmentInfo(file) : undefined;
  if (link) {
    const checked = linkRequest(link, bot.config.linkHosts);
    if (!checked.ok) {
      await refuse(checked.problem);
      return;
    }
    attachment = checked.attachment;
  }
  if (!attachment) return;
  const background = options.getAttachment(slashOptions.bgImage);
  const request: FileRequest = {
    attachment,
    chosen: {
      model: options.getString(slashOptions.model) ?? undefined,
      format: options.getString(slashOptions.format) ?? undefined,
      alphaMatting: options.getBoolean(slashOptions.alphaMatting) ?? undefined,
      onlyMask: options.getBoolean(slashOptions.onlyMask) ?? undefined,
      bgColor: options.getString(slashOptions.bgColor) ?? undefined,
    },
    background: background ? attachmentInfo(background) : undefined,
    ...(link ? { link: true } : {}),
  };
  const pre = precheckFile(request, prepareSettings(bot.config));
  if (!pre.ok) {
    await refuse(pre.problem);
    return;
  }
  await interaction.deferReply({ flags: MessageFlags.Ephemeral });
  await acceptFiles(interaction, [request], [], bot, { trigger: 'command' });
}

/**
 * "Remove background" on a message: every picture or video attachment (up to the configured
 * number; a forwarded message's are in its snapshot), with default options. A message without
 * one gets an ephemeral reply saying so.
 */
export async function handleContextMenu(
  interaction: MessageContextMenuCommandInteraction,
  bot: BotContext,
): Promise<void> {
  const message = interaction.targetMessage;
  const attachments = messageFiles(message);
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
 * After the deferral: refreshes links about to expire, inspects each file, takes the allowance
 * for those that pass, enqueues them, and writes the deferred reply's summary (what is being
 * worked on, what was refused and why) through the reply's one owner, before the jobs exist.
 */
async function acceptFiles(
  interaction: RepliableInteraction,
  requests: FileRequest[],
  notes: string[],
  bot: BotContext,
  extra: { trigger: 'command' | 'context-menu'; messageId?: string },
): Promise<void> {
  const ref = {
    applicationId: interaction.applicationId,
    token: interaction.token,
    expiresAt: interaction.createdTimestamp + INTERACTION_TOKEN_LIFETIME_MS,
  };
  try {
    const settings = prepareSettings(bot.config);
    const fresh = await freshenRequests(requests, bot);
    const accepted: PreparedFile[] = [];
    const lines = [...notes];
    for (const request of fresh) {
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
        ...ref,
        attachmentSizeLimit: interaction.attachmentSizeLimit ?? DEFAULT_UPLOAD_LIMIT,
      },
    };
    if (accepted.length > 0) {
      const names = accepted.map((file) => file.request.attachment.name).join(', ');
      lines.unshift(`Working on ${names}; the result will be posted here.`);
    }
    await bot.reply.set(ref, { 'a:summary': lines.join('\n') });
    for (const file of accepted) {
      const key = `discord-${interaction.id}-${file.request.attachment.id}`;
      await enqueueDiscordJob(bot.queue, file, target, key, stageSettings(bot));
    }
  } catch (error) {
    bot.logger.error({ err: error, interaction: interaction.id }, 'could not queue the request');
    await bot.reply
      .set(ref, { 'a:summary': '❌ The request could not be queued (internal error); try again.' })
      .catch(() => undefined);
  }
}

/** The requests with fresh links for attachments whose signed links are about to expire. */
async function freshenRequests(requests: FileRequest[], bot: BotContext): Promise<FileRequest[]> {
  const all = requests.flatMap((request) =>
    request.link ? [] : [request.attachment, ...(request.background ? [request.background] : [])],
  );
  const fresh = new Map(
    (await freshenAttachments(bot.rest, all)).map((attachment) => [attachment.id, attachment]),
  );
  return requests.map((request) =>
    request.link
      ? request
      : {
          ...request,
          attachment: fresh.get(request.attachment.id) ?? request.attachment,
          ...(request.background
            ? { background: fresh.get(request.background.id) ?? request.background }
            : {}),
        },
  );
}
