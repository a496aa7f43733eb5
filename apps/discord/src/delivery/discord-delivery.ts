import {
  appKey,
  type DeliveryHandlers,
  type DeliveryJobData,
  type JobProgress,
  PermanentDeliveryError,
  type PlatformTarget,
  type Storage,
} from '@bgremover/jobs';
import { type APIAllowedMentions, MessageFlags, type RawFile, type REST, Routes } from 'discord.js';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { fitMessage, progressLine, warningLines } from './delivery-text.js';
import {
  discordCode,
  isExpiredInteraction,
  isTooLarge,
  permanentReason,
} from './discord-errors.js';
import { type InteractionRef, type OriginalReply, tokenUsable } from './original-reply.js';
import { ProgressThrottle } from './progress-throttle.js';
import { ReactionMarks } from './reaction-marks.js';
import { type DiscordDelivery, planDiscordDelivery, type StoredResult } from './result-plan.js';
import { ThreadProgress } from './thread-progress.js';
import { resultUploadLimit } from './upload-limits.js';

/** A reply target of kind `discord`. */
export type DiscordTarget = PlatformTarget<'discord'>;
type Delivery = DeliveryJobData & { target: DiscordTarget };

export interface DiscordDeliveryOptions {
  /** The bot's REST client (its token). */
  rest: REST;
  storage: Storage;
  redis: Redis;
  /** Owner of the interactions' deferred replies. */
  reply: OriginalReply;
  logger: Logger;
  /** Key namespace in Redis (the conversion queue's name). */
  prefix: string;
  /** The API's public address; results over the upload limit are linked to `/v1/files/...`. */
  publicBaseUrl: string | undefined;
  /** Least time between two progress edits of one job; default 4 s. */
  progressIntervalMs?: number;
  /** A server's Boost Tier (`premium_tier`), for the upload limit of the bot's own messages. */
  guildPremiumTier(guildId: string): Promise<number | undefined>;
}

interface OutgoingMessage {
  content: string;
  files?: RawFile[];
  /** Only the requester sees it (interaction follow-ups only; channel posts are public). */
  ephemeral?: boolean;
}

/** Delivered markers are kept this long: a retry after the post went out does not post again. */
const POSTED_MARKER_SECONDS = 24 * 3600;

/**
 * The Discord app's delivery: every call to Discord about a finished job, with the bot's token.
 * - Results go to the interaction's follow-up webhook while its token works (15 minutes), else
 *   (or when Discord says the token is gone) to the thread or channel as a bot message mentioning
 *   the requester, within the server's upload limit for bot messages (Boost Tier, at most 25 MiB).
 * - A result over the limit becomes a link to the API's copy, or a downscaled picture.
 * - Progress edits the interaction's deferred reply (through `OriginalReply`), or a progress
 *   message in the reaction's thread, at most every few seconds.
 * - The reaction flow's pending reaction becomes ✅ or ❌.
 * - Discord's permanent refusals (missing access or permissions, unknown channel, locked or
 *   archived thread) end the delivery at once (`PermanentDeliveryError`), and `onGaveUp` tells
 *   the person where it can: an ephemeral follow-up while the token works, else a DM.
 * A delivery retried after its message went out does not post it again.
 */
export function createDiscordDeliveryHandlers(
  options: DiscordDeliveryOptions,
): DeliveryHandlers<'discord'> {
  const delivery = new DiscordDeliverer(options);
  return {
    deliver: (data) => delivery.deliver(data),
    onGaveUp: (data, error) => delivery.gaveUp(data, error),
    progress: (target, progress, jobId) => delivery.progress(target, progress, jobId),
  };
}

class DiscordDeliverer {
  private readonly throttle: ProgressThrottle;
  private readonly marks: ReactionMarks;
  private readonly threadProgress: ThreadProgress;

  constructor(private readonly options: DiscordDeliveryOptions) {
    this.throttle = new ProgressThrottle(options.progressIntervalMs ?? 4_000);
    this.marks = new ReactionMarks(options.rest, options.logger);
    this.threadProgress = new ThreadProgress(
      options.rest,
      options.redis,
      options.prefix,
      options.logger,
    );
  }

  async deliver(data: Delivery): Promise<void> {
    const { target, outcome, conversionJobId: jobId } = data;
    await this.throttle.finish(jobId);
    const name = target.filename ?? 'your file';
    try {
      let ok = true;
      if (!(await this.alreadyPosted(jobId))) {
        ok =
          outcome.kind === 'result'
            ? await this.postResult(target, outcome)
            : await this.postFailure(target, name, outcome.message);
        await this.markPosted(jobId);
      } else if (outcome.kind === 'failure') ok = false;
      await this.finishStatus(target, jobId, ok, outcome.kind === 'result');
    } catch (error) {
      const reason = permanentReason(error);
      if (reason) throw new PermanentDeliveryError(reason, discordCode(error));
      throw error;
    }
  }

  async gaveUp(data: Delivery, error: Error): Promise<void> {
    const { target } = data;
    const name = target.filename ?? 'your file';
    const reason =
      error instanceof PermanentDeliveryError
        ? `${error.message}${error.code !== undefined ? ` (Discord error ${error.code})` : ''}`
        : `Discord kept failing (${error.message})`;
    const where = `<#${target.threadId ?? target.channelId}>`;
    const what = data.outcome.kind === 'result' ? 'the result' : 'the outcome';
    const text = `I could not post ${what} for ${name} in ${where}: ${reason}. Ask a server admin to check the bot's access there.`;
    const told = await this.tellPrivately(target, text);
    if (!told)
      this.options.logger.warn({ jobId: data.conversionJobId }, 'could not tell the person');
    await this.options.reply
      .set(interactionOf(target) ?? dead, { [`f:${data.conversionJobId}`]: `${name}: ${text}` })
      .catch(() => undefined);
    await this.marks.finish(target, false);
  }

  async progress(target: DiscordTarget, progress: JobProgress, jobId: string): Promise<void> {
    if (progress.stage !== 'processing' || progress.framesDone === undefined) return;
    const line = progressLine(target.filename, progress);
    await this.throttle.maybeRun(jobId, async () => {
      if (target.trigger === 'reaction') {
        await this.threadProgress.show(target, jobId, line);
        return;
      }
      const interaction = interactionOf(target);
      if (interaction) await this.options.reply.set(interaction, { [`f:${jobId}`]: line });
    });
  }

  /** Posts the result (or a note why it cannot be); false when it could not be posted. */
  private async postResult(target: DiscordTarget, result: StoredResult): Promise<boolean> {
    const interaction = interactionOf(target);
    const tier =
      !interaction && target.guildId
        ? await this.options.guildPremiumTier(target.guildId)
        : undefined;
    const uploadLimit = resultUploadLimit(interaction, tier);
    const planOptions = {
      uploadLimit,
      publicBaseUrl: this.options.publicBaseUrl,
      storage: this.options.storage,
    };
    let plan = await planDiscordDelivery(result, planOptions);
    try {
      await this.send(target, resultMessage(target, result, plan));
    } catch (error) {
      if (!(plan.kind === 'upload' && isTooLarge(error))) throw error;
      this.options.logger.info({ bytes: result.bytes }, 'Discord refused the upload as too large');
      plan = await planDiscordDelivery(result, { ...planOptions, forceOversize: true });
      await this.send(target, resultMessage(target, result, plan));
    }
    return plan.kind !== 'refused';
  }

  private async postFailure(target: DiscordTarget, name: string, message: string) {
    await this.send(target, {
      content: `Could not remove the background from ${name}: ${message}`,
      ephemeral: true,
    });
    return false;
  }

  /** The deferred reply's line, the thread's progress message and the reactions, once posted. */
  private async finishStatus(
    target: DiscordTarget,
    jobId: string,
    ok: boolean,
    wasResult: boolean,
  ): Promise<void> {
    const name = target.filename ?? 'Your file';
    const line = ok
      ? `${name}: done, the result is posted below.`
      : wasResult
        ? `${name}: could not be posted, see below.`
        : `${name}: failed, see below.`;
    const interaction = interactionOf(target);
    if (interaction) await this.options.reply.set(interaction, { [`f:${jobId}`]: line });
    if (target.trigger === 'reaction') {
      await this.threadProgress.finish(
        target,
        jobId,
        ok ? `${line.replace(' below', ' below ✅')}` : `${line} ❌`,
      );
      await this.marks.finish(target, ok);
    }
  }

  /**
   * Posts through the interaction's follow-up webhook when its token is usable, else (or when
   * Discord says the token is gone) as a bot message in the thread or channel.
   */
  private async send(target: DiscordTarget, message: OutgoingMessage): Promise<void> {
    const interaction = interactionOf(target);
    if (interaction) {
      try {
        await this.followUp(interaction, message);
        return;
      } catch (error) {
        if (!isExpiredInteraction(error)) throw error;
        this.options.logger.info('interaction token no longer valid; posting as a bot message');
      }
    }
    const channelId = target.threadId ?? target.channelId;
    const mention = target.userId ? `<@${target.userId}> ` : '';
    const allowedMentions: APIAllowedMentions = target.userId
      ? { users: [target.userId] }
      : { parse: [] };
    await this.options.rest.post(Routes.channelMessages(channelId), {
      body: {
        content: fitMessage(`${mention}${message.content}`),
        allowed_mentions: allowedMentions,
        ...(target.messageId && !target.threadId
          ? { message_reference: { message_id: target.messageId, fail_if_not_exists: false } }
          : {}),
        ...attachmentsBody(message.files),
      },
      ...(message.files ? { files: message.files } : {}),
    });
  }

  private async followUp(interaction: InteractionRef, message: OutgoingMessage): Promise<void> {
    await this.options.rest.post(Routes.webhook(interaction.applicationId, interaction.token), {
      body: {
        content: fitMessage(message.content),
        allowed_mentions: { parse: [] },
        ...(message.ephemeral ? { flags: MessageFlags.Ephemeral } : {}),
        ...attachmentsBody(message.files),
      },
      ...(message.files ? { files: message.files } : {}),
      query: new URLSearchParams({ wait: 'true' }),
      auth: false,
    });
  }

  /**
   * Tells only the requester: an ephemeral follow-up while the interaction's token works, else a
   * DM. False when neither could be sent.
   */
  private async tellPrivately(target: DiscordTarget, text: string): Promise<boolean> {
    const interaction = interactionOf(target);
    if (interaction) {
      try {
        await this.followUp(interaction, { content: text, ephemeral: true });
        return true;
      } catch (error) {
        this.options.logger.info({ err: error }, 'could not send an ephemeral follow-up');
      }
    }
    if (!target.userId) return false;
    try {
      const dm = (await this.options.rest.post(Routes.userChannels(), {
        body: { recipient_id: target.userId },
      })) as { id: string };
      await this.options.rest.post(Routes.channelMessages(dm.id), {
        body: { content: fitMessage(text), allowed_mentions: { parse: [] } },
      });
      return true;
    } catch (error) {
      this.options.logger.info({ err: error }, 'could not send a DM');
      return false;
    }
  }

  private async alreadyPosted(jobId: string): Promise<boolean> {
    return (await this.options.redis.exists(this.postedKey(jobId))) === 1;
  }

  private async markPosted(jobId: string): Promise<void> {
    await this.options.redis
      .set(this.postedKey(jobId), '1', 'EX', POSTED_MARKER_SECONDS)
      .catch((error: Error) => this.options.logger.warn({ err: error }, 'could not mark posted'));
  }

  private postedKey(jobId: string): string {
    return appKey(this.options.prefix, 'discord', 'posted', jobId);
  }
}

/** An interaction reference that is never usable (for lines of targets without one). */
const dead: InteractionRef = { applicationId: '0', token: 'none', expiresAt: 0 };

/** The target's interaction, while its token may still be used. */
function interactionOf(
  target: DiscordTarget,
): (InteractionRef & { attachmentSizeLimit: number }) | undefined {
  const interaction = target.interaction;
  return interaction && tokenUsable(interaction) ? interaction : undefined;
}

function resultMessage(
  target: DiscordTarget,
  result: StoredResult,
  plan: DiscordDelivery,
): OutgoingMessage {
  const name = target.filename ?? 'your file';
  const warnings = warningLines(result.warnings);
  if (plan.kind === 'upload') {
    const note = plan.note ? ` ${plan.note}` : '';
    return {
      content: `Here is ${name} without its background.${note}${warnings}`,
      files: [{ name: plan.filename, data: plan.data, contentType: plan.contentType }],
    };
  }
  if (plan.kind === 'link') {
    return { content: `${name}: ${plan.note}\n${plan.url}${warnings}` };
  }
  return { content: `Could not post the result for ${name}: ${plan.message}`, ephemeral: true };
}

function attachmentsBody(files: RawFile[] | undefined) {
  return files
    ? { attachments: files.map((file, index) => ({ id: index, filename: file.name })) }
    : {};
}
