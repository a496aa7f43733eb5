import type { ReplyTarget } from '@bgremover/jobs';
import {
  type APIAllowedMentions,
  DiscordAPIError,
  MessageFlags,
  type RawFile,
  REST,
  RESTJSONErrorCodes,
  Routes,
} from 'discord.js';
import type { DeliverableResult, JobProgress, ReplyAdapter, ReplyContext } from './adapter.js';
import { ProgressThrottle } from './discord-progress.js';
import {
  DEFAULT_DISCORD_UPLOAD_LIMIT,
  type DiscordDelivery,
  planDiscordDelivery,
} from './discord-result-plan.js';
import { fitMessage, progressLine, warningLines } from './discord-text.js';

/** A reply target of kind `discord`. */
export type DiscordReplyTarget = Extract<ReplyTarget, { kind: 'discord' }>;

export interface DiscordReplyAdapterOptions {
  /** The bot token (the same application as the bot that enqueued the jobs). */
  token: string;
  /** REST base URL without the version, e.g. `https://discord.com/api` (the default). */
  apiUrl?: string;
  /** The API's public address; results over the upload limit are linked to `/v1/files/...`. */
  publicBaseUrl?: string;
  /** Upload limit when the target does not state one (channel posts); default 10 MB. */
  defaultUploadLimit?: number;
  /** Least time between two progress edits of one job's deferred reply; default 4 s. */
  progressIntervalMs?: number;
  /** Interaction tokens are not used within this long of their expiry; default 60 s. */
  tokenExpiryMarginMs?: number;
  /** Emoji reacted on success and on failure in the reaction flow. */
  successReaction?: string;
  failureReaction?: string;
}

interface OutgoingMessage {
  content: string;
  files?: RawFile[];
  /** Only the requester sees it (interaction follow-ups only; channel posts are public). */
  ephemeral?: boolean;
}

/**
 * Creates the worker's Discord delivery adapter. It talks to Discord's REST API with the bot's
 * token through discord.js's REST client (which waits out 429s as Discord says):
 * - results go to the interaction's follow-up webhook while its token is valid (15 minutes),
 *   then, or when Discord says the token is gone, to the channel (or the reaction's thread)
 *   as a bot message mentioning the requester;
 * - results over the upload limit (the interaction's, else 10 MB) become a link to the API's
 *   copy, or a downscaled picture, with a note saying which;
 * - video progress edits the deferred reply at most every few seconds;
 * - in the reaction flow the pending reaction is swapped for ✅ or ❌.
 */
export function createDiscordReplyAdapter(
  options: DiscordReplyAdapterOptions,
): ReplyAdapter<DiscordReplyTarget> {
  return new DiscordReplyAdapter(options);
}

class DiscordReplyAdapter implements ReplyAdapter<DiscordReplyTarget> {
  private readonly rest: REST;
  private readonly throttle: ProgressThrottle;
  private readonly marginMs: number;

  constructor(private readonly options: DiscordReplyAdapterOptions) {
    this.rest = new REST({
      version: '10',
      ...(options.apiUrl ? { api: options.apiUrl } : {}),
    }).setToken(options.token);
    this.throttle = new ProgressThrottle(options.progressIntervalMs ?? 4_000);
    this.marginMs = options.tokenExpiryMarginMs ?? 60_000;
  }

  async deliverResult(
    target: DiscordReplyTarget,
    result: DeliverableResult,
    context: ReplyContext,
  ): Promise<void> {
    await this.throttle.finish(context.jobId);
    const uploadLimit =
      target.interaction?.attachmentSizeLimit ??
      this.options.defaultUploadLimit ??
      DEFAULT_DISCORD_UPLOAD_LIMIT;
    const planOptions = { uploadLimit, publicBaseUrl: this.options.publicBaseUrl };
    let plan = await planDiscordDelivery(result, planOptions);
    try {
      await this.send(target, resultMessage(target, result, plan), context);
    } catch (error) {
      if (!(plan.kind === 'upload' && isTooLarge(error))) throw error;
      context.logger.info({ bytes: result.bytes }, 'Discord refused the upload as too large');
      plan = await planDiscordDelivery(result, { ...planOptions, forceOversize: true });
      await this.send(target, resultMessage(target, result, plan), context);
    }
    const ok = plan.kind !== 'refused';
    await this.editOriginal(
      target,
      ok
        ? `${target.filename ?? 'Your file'}: done, the result is posted below.`
        : `${target.filename ?? 'Your file'}: could not be posted, see below.`,
      context,
    );
    await this.markReaction(target, ok, context);
  }

  async deliverFailure(
    target: DiscordReplyTarget,
    message: string,
    context: ReplyContext,
  ): Promise<void> {
    await this.throttle.finish(context.jobId);
    const name = target.filename ?? 'your file';
    await this.send(
      target,
      { content: `Could not remove the background from ${name}: ${message}`, ephemeral: true },
      context,
    );
    await this.editOriginal(target, `${name}: failed, see below.`, context);
    await this.markReaction(target, false, context);
  }

  async reportProgress(
    target: DiscordReplyTarget,
    progress: JobProgress,
    context: ReplyContext,
  ): Promise<void> {
    const interaction = this.usableInteraction(target);
    if (!interaction || progress.stage !== 'processing' || progress.framesDone === undefined)
      return;
    await this.throttle.maybeRun(context.jobId, async () => {
      await this.rest.patch(
        Routes.webhookMessage(interaction.applicationId, interaction.token, '@original'),
        { body: { content: progressLine(target.filename, progress) }, auth: false },
      );
    });
  }

  /** The interaction, while its token may still be used. */
  private usableInteraction(target: DiscordReplyTarget) {
    const interaction = target.interaction;
    if (!interaction) return undefined;
    if (interaction.expiresAt !== undefined && Date.now() > interaction.expiresAt - this.marginMs)
      return undefined;
    return interaction;
  }

  /**
   * Posts through the interaction's follow-up webhook when its token is usable, else (or when
   * Discord says the token is gone) as a bot message in the thread or channel.
   */
  private async send(
    target: DiscordReplyTarget,
    message: OutgoingMessage,
    context: ReplyContext,
  ): Promise<void> {
    const interaction = this.usableInteraction(target);
    if (interaction) {
      try {
        await this.rest.post(Routes.webhook(interaction.applicationId, interaction.token), {
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
        return;
      } catch (error) {
        if (!isExpiredInteraction(error)) throw error;
        context.logger.info('interaction token no longer valid; posting as a bot message');
      }
    }
    const channelId = target.threadId ?? target.channelId;
    const mention = target.userId ? `<@${target.userId}> ` : '';
    const allowedMentions: APIAllowedMentions = target.userId
      ? { users: [target.userId] }
      : { parse: [] };
    await this.rest.post(Routes.channelMessages(channelId), {
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

  /** Replaces the deferred reply's text (best effort: the result is already posted). */
  private async editOriginal(
    target: DiscordReplyTarget,
    content: string,
    context: ReplyContext,
  ): Promise<void> {
    const interaction = this.usableInteraction(target);
    if (!interaction) return;
    await this.rest
      .patch(Routes.webhookMessage(interaction.applicationId, interaction.token, '@original'), {
        body: { content: fitMessage(content) },
        auth: false,
      })
      .catch((error: Error) =>
        context.logger.info({ err: error }, 'could not edit the deferred reply'),
      );
  }

  /** The reaction flow: ✅ or ❌ on the message, and the pending reaction taken away. */
  private async markReaction(
    target: DiscordReplyTarget,
    ok: boolean,
    context: ReplyContext,
  ): Promise<void> {
    if (target.trigger !== 'reaction' || !target.messageId) return;
    const emoji = ok
      ? (this.options.successReaction ?? '✅')
      : (this.options.failureReaction ?? '❌');
    const { channelId, messageId } = target;
    try {
      await this.rest.put(
        Routes.channelMessageOwnReaction(channelId, messageId, encodeURIComponent(emoji)),
      );
      if (target.pendingReaction) {
        await this.rest.delete(
          Routes.channelMessageOwnReaction(
            channelId,
            messageId,
            encodeURIComponent(target.pendingReaction),
          ),
        );
      }
    } catch (error) {
      context.logger.warn({ err: error }, 'could not update the reactions on the message');
    }
  }
}

function resultMessage(
  target: DiscordReplyTarget,
  result: DeliverableResult,
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

/** Discord's answer to an upload over the limit: 413, or error 40005. */
function isTooLarge(error: unknown): boolean {
  return (
    error instanceof DiscordAPIError &&
    (error.code === RESTJSONErrorCodes.RequestEntityTooLarge || error.status === 413)
  );
}

/** Discord's answers once an interaction token has expired or the interaction is unknown. */
function isExpiredInteraction(error: unknown): boolean {
  if (!(error instanceof DiscordAPIError)) return false;
  return (
    error.status === 401 ||
    error.code === RESTJSONErrorCodes.InvalidWebhookToken ||
    error.code === RESTJSONErrorCodes.UnknownWebhook ||
    error.code === RESTJSONErrorCodes.UnknownInteraction
  );
}
