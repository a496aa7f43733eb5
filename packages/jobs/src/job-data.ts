import { z } from 'zod';

/**
 * Where a job's input bytes are. Never the bytes themselves: Redis only ever holds references.
 * `storage`: a key in our storage (API uploads, and files the chat apps fetched with their own
 * tokens). `url`: a public link (Discord's CDN, a `/removebg url:`) the worker fetches itself,
 * only from allow-listed hosts; workers hold no platform credentials.
 */
export const inputReferenceSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('storage'),
    key: z.string().min(1),
    filename: z.string().min(1),
  }),
  z.object({
    kind: z.literal('url'),
    url: z.url(),
    filename: z.string().min(1),
  }),
]);
export type InputReference = z.infer<typeof inputReferenceSchema>;

/** Where the result goes once the job ends. */
export const replyTargetSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('api'),
    requestId: z.string().min(1),
    fileIndex: z.number().int().min(0),
  }),
  z.object({
    kind: z.literal('discord'),
    /** The channel the request came from (for reactions: the reacted-to message's channel). */
    channelId: z.string().min(1),
    /** The message the request was about (context menu, reaction). */
    messageId: z.string().optional(),
    /** The thread the result goes into (the reaction flow's thread on the message). */
    threadId: z.string().optional(),
    userId: z.string().optional(),
    guildId: z.string().optional(),
    /** What started the job; `reaction` means the worker swaps the pending reaction for ✅/❌. */
    trigger: z.enum(['command', 'context-menu', 'reaction']).optional(),
    /** The input's file name, for messages about this job. */
    filename: z.string().optional(),
    /** The pending reaction the bot added (the reaction flow), removed once the job ends. */
    pendingReaction: z.string().optional(),
    interaction: z
      .object({
        applicationId: z.string(),
        token: z.string(),
        attachmentSizeLimit: z.number(),
        /** Milliseconds since the epoch after which the interaction token no longer works. */
        expiresAt: z.number().int().optional(),
      })
      .optional(),
  }),
  z.object({
    kind: z.literal('slack'),
    channel: z.string().min(1),
    threadTs: z.string().min(1),
    userId: z.string().optional(),
    progressMessageTs: z.string().optional(),
    /** The input's name as people saw it in Slack, for progress and failure messages. */
    filename: z.string().optional(),
    /** The message the bot marks with ✅ or ❌ when the job ends (the reaction trigger). */
    reactionTs: z.string().optional(),
  }),
]);
export type ReplyTarget = z.infer<typeof replyTargetSchema>;

/**
 * One job = one input file. `params` are the request's parameters as the producer validated
 * them with core's schemas (the worker parses them again; parsing is idempotent).
 */
export const conversionJobDataSchema = z.object({
  version: z.literal(1),
  mediaKind: z.enum(['image', 'video']),
  params: z.record(z.string(), z.unknown()),
  input: inputReferenceSchema,
  /** The background picture or video for bg_type=image and the video_over_* formats. */
  background: inputReferenceSchema.optional(),
  target: replyTargetSchema,
  /** Milliseconds since the epoch when the request arrived. */
  requestedAt: z.number().int(),
});
export type ConversionJobData = z.infer<typeof conversionJobDataSchema>;
/** Job data as a producer writes it (defaults may be omitted). */
export type ConversionJobInput = z.input<typeof conversionJobDataSchema>;
