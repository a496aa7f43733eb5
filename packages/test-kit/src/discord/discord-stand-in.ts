import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SnowflakeUtil } from 'discord.js';
import { type WebSocket, WebSocketServer } from 'ws';
import { waitFor } from '../wait-for.js';

/**
 * A loopback stand-in for Discord, driven by the real discord.js client and REST client: a JSON
 * WebSocket gateway (HELLO, IDENTIFY -> READY + GUILD_CREATE, heartbeats, dispatches) and the
 * REST routes the bot uses, each recorded. It serves attachment bytes (the "CDN", on 127.0.0.1)
 * under signed links that expire, can answer the next matching request with a 429, and refuses
 * what Discord refuses; each rule cites the documentation page it comes from:
 * - interactions: the first response within 3 s, once (10062, 40060); the token for 15 minutes
 *   (50027 after); uploads over the interaction's `attachment_size_limit` (40005);
 * - the bot's own messages: channel access and permissions per channel (50001, 50013), unknown
 *   channels (10003), locked (160005) and archived (50083) threads, the server's upload limit by
 *   Boost Tier and the 25 MiB request limit (40005);
 * - threads: a thread started from a message has the message's id, and only one (160004);
 * - reactions: the emoji URL-encoded, custom ones as `name:id` (10014);
 * - signed CDN links (404 once expired) and `POST /attachments/refresh-urls`;
 * - DMs (a DM channel, no `guild_id`) and forwarded messages (`message_snapshots`,
 *   `message_reference.type` 1).
 */

export interface RecordedFile {
  name: string;
  contentType: string;
  data: Buffer;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  body: Record<string, unknown> | undefined;
  files: RecordedFile[];
  status: number;
  /** Discord's JSON error code of the answer, when it was an error. */
  code?: number;
  at: number;
}

interface StoredAttachment {
  id: string;
  filename: string;
  contentType: string;
  data: Buffer;
}

export type Json = Record<string, unknown>;

/** Permission bits (https://discord.com/developers/docs/topics/permissions#permissions-bitwise-permission-flags). */
export const Permission = {
  ADD_REACTIONS: 1n << 6n,
  VIEW_CHANNEL: 1n << 10n,
  SEND_MESSAGES: 1n << 11n,
  ATTACH_FILES: 1n << 15n,
  READ_MESSAGE_HISTORY: 1n << 16n,
  CREATE_PUBLIC_THREADS: 1n << 35n,
  SEND_MESSAGES_IN_THREADS: 1n << 38n,
} as const;
export type PermissionName = keyof typeof Permission;

const PERMISSIONS = '1071698660929';
const ALL_BOT_PERMISSIONS = Object.values(Permission).reduce((all, bit) => all | bit, 0n);
const MIB = 1024 * 1024;

interface ChannelState {
  id: string;
  /** 0 guild text, 1 DM, 11 public thread. */
  type: 0 | 1 | 11;
  parentId?: string;
  /** The bot's permissions here (threads use their parent's). */
  permissions: bigint;
  locked: boolean;
  archived: boolean;
  recipientId?: string;
}

interface InteractionState {
  id: string;
  token: string;
  /** When the interaction was created (its token's lifetime counts from here). */
  createdAt: number;
  /** When it was sent to the bot (the 3 s first-response deadline counts from here). */
  dispatchedAt: number;
  tokenLifetimeMs: number;
  acknowledged: boolean;
  attachmentSizeLimit: number;
  channelId: string;
}

/** A fresh snowflake; `ageMs` back-dates it (discord.js reads creation times from ids). */
export function snowflake(ageMs = 0): string {
  return SnowflakeUtil.generate({ timestamp: Date.now() - ageMs }).toString();
}

class DiscordError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** Who sends an interaction, from where, and how old its token is. */
export interface InteractionContext {
  userId?: string;
  attachmentSizeLimit?: number;
  ageMs?: number;
  tokenLifetimeMs?: number;
  /** In a DM with the bot rather than in the server. */
  dm?: boolean;
  channelId?: string;
}

/** An interaction the stand-in dispatched: its id, token and channel. */
export interface DispatchedInteraction {
  id: string;
  token: string;
  channelId: string;
}

export class DiscordStandIn {
  readonly applicationId = snowflake();
  readonly botUserId = this.applicationId;
  readonly guildId = snowflake();
  readonly channelId = snowflake();
  readonly requests: RecordedRequest[] = [];
  /** Overrides the 25 MiB request limit (tests of the 40005 fallback). */
  uploadLimit = 25 * MIB;
  /** The server's Boost Tier (`premium_tier`); change it with `setPremiumTier`. */
  premiumTier = 0;
  /** How long a signed CDN link works after it is issued. */
  urlLifetimeMs = 24 * 3600_000;
  /** The first-response deadline of interactions (3 s on Discord; shorter in tests of it). */
  firstResponseMs = 3_000;
  private readonly secret = randomBytes(16);
  private readonly attachments = new Map<string, StoredAttachment>();
  private readonly messages = new Map<string, Json>();
  private readonly channels = new Map<string, ChannelState>();
  private readonly interactions = new Map<string, InteractionState>();
  private readonly customEmojis = new Map<string, string>();
  private readonly reactions = new Map<string, Set<string>>();
  private readonly rateLimits: { method: string; path: RegExp; retryAfter: number }[] = [];
  private readonly sockets = new Set<WebSocket>();
  private sequence = 0;
  private readonly gateway: WebSocketServer;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {
    this.channels.set(this.channelId, {
      id: this.channelId,
      type: 0,
      permissions: ALL_BOT_PERMISSIONS,
      locked: false,
      archived: false,
    });
    this.gateway = new WebSocketServer({ server, path: '/gateway' });
    this.gateway.on('connection', (socket) => this.onGatewayConnection(socket));
    server.on('request', (request, response) => {
      this.onRequest(request, response).catch((error: Error) => {
        response.writeHead(500, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ message: error.message, code: 0 }));
      });
    });
  }

  /** Starts the stand-in on a free loopback port. */
  static async start(): Promise<DiscordStandIn> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new DiscordStandIn(server, (server.address() as AddressInfo).port);
  }

  /** The REST base URL for discord.js (`rest.api`), without the version. */
  get apiUrl(): string {
    return `http://127.0.0.1:${this.port}/api`;
  }

  /** Stores bytes on the "CDN" and returns the attachment object Discord would send. */
  addAttachment(
    filename: string,
    data: Buffer,
    contentType: string,
    options: { issuedAgoMs?: number } = {},
  ): Json {
    const id = snowflake();
    this.attachments.set(id, { id, filename, contentType, data });
    const url = this.signedUrl(id, filename, Date.now() - (options.issuedAgoMs ?? 0));
    return { id, filename, size: data.length, url, proxy_url: url, content_type: contentType };
  }

  /** A text channel in the server where the bot lacks the permissions named in `deny`. */
  addChannel(deny: PermissionName[] = []): string {
    const id = snowflake();
    let permissions = ALL_BOT_PERMISSIONS;
    for (const name of deny) permissions &= ~Permission[name];
    this.channels.set(id, { id, type: 0, permissions, locked: false, archived: false });
    this.dispatch('CHANNEL_CREATE', this.channelJson(id));
    return id;
  }

  /** Locks or archives a thread (a thread's id is its starter message's id). */
  setThreadState(threadId: string, state: { locked?: boolean; archived?: boolean }): void {
    const thread = this.channels.get(threadId);
    if (!thread) throw new Error(`no thread ${threadId}`);
    Object.assign(thread, state);
  }

  /** A custom emoji of the server, as people write it: `<:name:id>`. */
  addCustomEmoji(name: string): string {
    const id = snowflake();
    this.customEmojis.set(id, name);
    return `<:${name}:${id}>`;
  }

  /** Changes the Boost Tier and tells the gateway (GUILD_UPDATE). */
  setPremiumTier(tier: number): void {
    this.premiumTier = tier;
    this.dispatch('GUILD_UPDATE', this.guildJson());
  }

  /** A message someone posted in a channel of the server (fetchable over REST). */
  postMessage(attachments: Json[], options: { authorId?: string; channelId?: string } = {}): Json {
    const message = this.message(options.channelId ?? this.channelId, {
      author: user(options.authorId ?? snowflake(), 'poster'),
      attachments,
    });
    this.messages.set(message.id as string, message);
    return this.render(message);
  }

  /**
   * A forward of `original`: no attachments of its own, the original's in `message_snapshots`
   * (https://discord.com/developers/docs/resources/message#message-reference-content-attribution-forwards).
   */
  postForward(original: Json, options: { channelId?: string } = {}): Json {
    const message = this.message(options.channelId ?? this.channelId, {
      author: user(snowflake(), 'forwarder'),
      attachments: [],
      flags: 1 << 14,
      message_reference: {
        type: 1,
        message_id: original.id,
        channel_id: original.channel_id,
        guild_id: this.guildId,
      },
      message_snapshots: [
        {
          message: {
            type: 0,
            content: original.content ?? '',
            embeds: [],
            attachments: original.attachments,
            timestamp: original.timestamp,
            edited_timestamp: null,
            flags: 0,
            mentions: [],
            mention_roles: [],
          },
        },
      ],
    });
    this.messages.set(message.id as string, message);
    return this.render(message);
  }

  /** Dispatches `/removebg` with the given options; returns the interaction id and token. */
  slashCommand(
    input: InteractionContext & {
      file?: Json;
      url?: string;
      options?: { name: string; type: number; value: unknown }[];
      background?: Json;
    },
  ): DispatchedInteraction {
    const attachments: Json = {};
    const options: { name: string; type: number; value: unknown }[] = [];
    if (input.file) {
      attachments[input.file.id as string] = input.file;
      options.push({ name: 'file', type: 11, value: input.file.id });
    }
    if (input.url !== undefined) options.push({ name: 'url', type: 3, value: input.url });
    options.push(...(input.options ?? []));
    if (input.background) {
      attachments[input.background.id as string] = input.background;
      options.push({ name: 'bg_image', type: 11, value: input.background.id });
    }
    return this.interaction(
      { id: snowflake(), name: 'removebg', type: 1, options, resolved: { attachments } },
      input,
    );
  }

  /** Dispatches the "Remove background" message command on a message. */
  contextMenu(
    message: Json,
    input: Pick<InteractionContext, 'userId' | 'attachmentSizeLimit'> = {},
  ): DispatchedInteraction {
    const fresh = this.render(this.messages.get(message.id as string) ?? message);
    return this.interaction(
      {
        id: snowflake(),
        name: 'Remove background',
        type: 3,
        target_id: message.id,
        resolved: { messages: { [message.id as string]: fresh } },
      },
      { ...input, channelId: message.channel_id as string },
    );
  }

  /** Dispatches MESSAGE_REACTION_ADD (the message is not in the client's cache: a partial). */
  react(message: Json, emoji: string, userId: string): void {
    const custom = /^<a?:(\w+):(\d+)>$/.exec(emoji);
    this.dispatch('MESSAGE_REACTION_ADD', {
      user_id: userId,
      channel_id: message.channel_id,
      message_id: message.id,
      guild_id: this.guildId,
      member: member(userId),
      emoji: custom ? { id: custom[2], name: custom[1] } : { id: null, name: emoji },
      message_author_id: (message.author as Json).id,
      burst: false,
      type: 0,
    });
  }

  /** The next request matching `method` and `path` is answered 429 with `retryAfter` seconds. */
  rateLimitNext(method: string, path: RegExp, retryAfter: number): void {
    this.rateLimits.push({ method, path, retryAfter });
  }

  /** Recorded requests matching a method and a path pattern. */
  find(method: string, path: RegExp): RecordedRequest[] {
    return this.requests.filter((request) => request.method === method && path.test(request.path));
  }

  /** Waits until `probe` returns a value, polling the recorded requests. */
  waitFor<T>(probe: () => T | undefined | false, timeoutMs = 20_000): Promise<T> {
    return waitFor(probe, {
      timeoutMs,
      intervalMs: 50,
      what: () => {
        const seen = this.requests
          .map((r) => `${r.method} ${r.path} ${r.status}${r.code ? ` (${r.code})` : ''}`)
          .join('\n');
        return `a matching request; requests so far:\n${seen}`;
      },
    });
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.terminate();
    await new Promise<void>((resolve) => this.gateway.close(() => resolve()));
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /**
   * A CDN link signed with `ex` (expiry) and `is` (issue time) as hex unix seconds and `hm` (the
   * signature) (https://discord.com/developers/docs/reference#signed-attachment-cdn-urls).
   */
  private signedUrl(id: string, filename: string, issuedAt = Date.now()): string {
    const is = Math.floor(issuedAt / 1000);
    const ex = Math.floor((issuedAt + this.urlLifetimeMs) / 1000);
    const hex = (n: number) => n.toString(16);
    const hm = this.signature(id, hex(ex));
    return `http://127.0.0.1:${this.port}/attachments/${this.channelId}/${id}/${encodeURIComponent(filename)}?ex=${hex(ex)}&is=${hex(is)}&hm=${hm}&`;
  }

  private signature(id: string, ex: string): string {
    return createHmac('sha256', this.secret).update(`${id}:${ex}`).digest('hex');
  }

  /** A stored message as Discord sends it now: links in it are freshly signed. */
  private render(message: Json): Json {
    const resign = (attachments: unknown) =>
      (attachments as Json[] | undefined)?.map((attachment) => {
        const url = this.signedUrl(attachment.id as string, attachment.filename as string);
        return { ...attachment, url, proxy_url: url };
      });
    const snapshots = message.message_snapshots as { message: Json }[] | undefined;
    return {
      ...message,
      attachments: resign(message.attachments) ?? [],
      ...(snapshots
        ? {
            message_snapshots: snapshots.map((snapshot) => ({
              message: { ...snapshot.message, attachments: resign(snapshot.message.attachments) },
            })),
          }
        : {}),
    };
  }

  private interaction(data: Json, input: InteractionContext): DispatchedInteraction {
    const id = snowflake(input.ageMs ?? 0);
    const token = `token-${randomBytes(8).toString('hex')}`;
    const userId = input.userId ?? snowflake();
    const attachmentSizeLimit = input.attachmentSizeLimit ?? 10 * MIB;
    const channelId = input.dm ? this.dmChannel(userId).id : (input.channelId ?? this.channelId);
    this.interactions.set(id, {
      id,
      token,
      createdAt: Date.now() - (input.ageMs ?? 0),
      dispatchedAt: Date.now(),
      tokenLifetimeMs: input.tokenLifetimeMs ?? 15 * 60_000,
      acknowledged: false,
      attachmentSizeLimit,
      channelId,
    });
    // A DM interaction has `user` and a DM channel, and no `guild_id` or `member`
    // (https://discord.com/developers/docs/interactions/receiving-and-responding#interaction-object-interaction-structure).
    const where = input.dm
      ? {
          channel_id: channelId,
          channel: this.channelJson(channelId),
          user: user(userId, `user${userId.slice(-4)}`),
          context: 1,
          authorizing_integration_owners: { '0': this.guildId },
        }
      : {
          guild_id: this.guildId,
          channel_id: channelId,
          channel: this.channelJson(channelId),
          member: { ...member(userId), permissions: PERMISSIONS },
          guild_locale: 'en-US',
          context: 0,
          authorizing_integration_owners: { '0': this.guildId },
        };
    this.dispatch('INTERACTION_CREATE', {
      id,
      application_id: this.applicationId,
      type: 2,
      token,
      version: 1,
      ...where,
      app_permissions: PERMISSIONS,
      locale: 'en-US',
      entitlements: [],
      attachment_size_limit: attachmentSizeLimit,
      data: input.dm ? data : { ...data, guild_id: this.guildId },
    });
    return { id, token, channelId };
  }

  private dmChannel(userId: string): ChannelState {
    const existing = [...this.channels.values()].find((c) => c.recipientId === userId);
    if (existing) return existing;
    const channel: ChannelState = {
      id: snowflake(),
      type: 1,
      permissions: ALL_BOT_PERMISSIONS,
      locked: false,
      archived: false,
      recipientId: userId,
    };
    this.channels.set(channel.id, channel);
    return channel;
  }

  private channelJson(channelId: string): Json {
    const channel = this.channels.get(channelId);
    if (channel?.type === 1) {
      return {
        id: channel.id,
        type: 1,
        last_message_id: null,
        recipients: [user(channel.recipientId ?? '0', 'someone')],
      };
    }
    if (channel?.type === 11) return this.threadJson(channel);
    return {
      id: channelId,
      type: 0,
      guild_id: this.guildId,
      name: 'general',
      position: 0,
      permission_overwrites: [],
      nsfw: false,
      parent_id: null,
      topic: null,
      last_message_id: null,
      rate_limit_per_user: 0,
    };
  }

  private threadJson(thread: ChannelState): Json {
    return {
      id: thread.id,
      type: 11,
      guild_id: this.guildId,
      parent_id: thread.parentId,
      name: 'thread',
      owner_id: this.botUserId,
      last_message_id: null,
      rate_limit_per_user: 0,
      message_count: 0,
      member_count: 1,
      flags: 0,
      total_message_sent: 0,
      thread_metadata: {
        archived: thread.archived,
        auto_archive_duration: 1440,
        archive_timestamp: new Date().toISOString(),
        locked: thread.locked,
      },
    };
  }

  private message(channelId: string, fields: Json): Json {
    const channel = this.channels.get(channelId);
    return {
      id: snowflake(),
      channel_id: channelId,
      ...(channel?.type === 1 ? {} : { guild_id: this.guildId }),
      author: user(this.botUserId, 'bgremover', true),
      content: '',
      timestamp: new Date().toISOString(),
      edited_timestamp: null,
      tts: false,
      mention_everyone: false,
      mentions: [],
      mention_roles: [],
      attachments: [],
      embeds: [],
      pinned: false,
      type: 0,
      flags: 0,
      components: [],
      ...fields,
    };
  }

  private dispatch(event: string, data: Json): void {
    const payload = JSON.stringify({ op: 0, t: event, s: ++this.sequence, d: data });
    for (const socket of this.sockets) socket.send(payload);
  }

  private onGatewayConnection(socket: WebSocket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.send(JSON.stringify({ op: 10, d: { heartbeat_interval: 41_250 } }));
    socket.on('message', (raw) => {
      const packet = JSON.parse(raw.toString()) as { op: number; d: unknown };
      if (packet.op === 1) socket.send(JSON.stringify({ op: 11 }));
      if (packet.op === 2) this.identify(socket);
    });
  }

  private guildJson(): Json {
    return {
      id: this.guildId,
      name: 'Stand-in guild',
      icon: null,
      owner_id: snowflake(),
      afk_channel_id: null,
      afk_timeout: 300,
      verification_level: 0,
      default_message_notifications: 0,
      explicit_content_filter: 0,
      roles: [
        {
          id: this.guildId,
          name: '@everyone',
          permissions: PERMISSIONS,
          position: 0,
          color: 0,
          hoist: false,
          managed: false,
          mentionable: false,
          flags: 0,
        },
      ],
      emojis: [...this.customEmojis].map(([id, name]) => ({ id, name, animated: false })),
      stickers: [],
      features: [],
      mfa_level: 0,
      application_id: null,
      system_channel_id: null,
      system_channel_flags: 0,
      rules_channel_id: null,
      premium_tier: this.premiumTier,
      preferred_locale: 'en-US',
      nsfw_level: 0,
      premium_progress_bar_enabled: false,
    };
  }

  private identify(socket: WebSocket): void {
    const send = (event: string, data: Json) =>
      socket.send(JSON.stringify({ op: 0, t: event, s: ++this.sequence, d: data }));
    send('READY', {
      v: 10,
      user: user(this.botUserId, 'bgremover', true),
      guilds: [{ id: this.guildId, unavailable: true }],
      session_id: 'stand-in-session',
      resume_gateway_url: `ws://127.0.0.1:${this.port}/gateway`,
      application: { id: this.applicationId, flags: 0 },
      private_channels: [],
      relationships: [],
      shard: [0, 1],
    });
    send('GUILD_CREATE', {
      ...this.guildJson(),
      joined_at: new Date().toISOString(),
      large: false,
      unavailable: false,
      member_count: 1,
      voice_states: [],
      members: [member(this.botUserId, true)],
      channels: [...this.channels.values()]
        .filter((channel) => channel.type === 0)
        .map((channel) => this.channelJson(channel.id)),
      threads: [],
      presences: [],
      stage_instances: [],
      guild_scheduled_events: [],
    });
  }

  private async onRequest(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', `http://127.0.0.1:${this.port}`);
    const path = url.pathname;
    const method = request.method ?? 'GET';

    if (path.startsWith('/attachments/')) {
      this.serveAttachment(url, request, response);
      return;
    }

    const raw = await readBody(request);
    const { body, files } = await parseBody(request, raw);
    const record: RecordedRequest = {
      method,
      path: path.replace(/^\/api\/v10/, '').replace(/%40/g, '@'),
      query: url.searchParams,
      body,
      files,
      status: 0,
      at: Date.now(),
    };
    this.requests.push(record);
    const reply = (status: number, json?: unknown, headers: Record<string, string> = {}) => {
      record.status = status;
      if (json === undefined) {
        response.writeHead(status, headers);
        response.end();
        return;
      }
      response.writeHead(status, { 'content-type': 'application/json', ...headers });
      response.end(JSON.stringify(json));
    };

    const limitIndex = this.rateLimits.findIndex(
      (limit) => limit.method === method && limit.path.test(record.path),
    );
    if (limitIndex >= 0) {
      const [limit] = this.rateLimits.splice(limitIndex, 1);
      const seconds = String(limit?.retryAfter ?? 1);
      reply(
        429,
        { message: 'You are being rate limited.', retry_after: Number(seconds), global: false },
        {
          'retry-after': seconds,
          'x-ratelimit-limit': '5',
          'x-ratelimit-remaining': '0',
          'x-ratelimit-reset-after': seconds,
          'x-ratelimit-bucket': 'stand-in-bucket',
          'x-ratelimit-scope': 'user',
        },
      );
      return;
    }
    try {
      // The maximum request size when sending a message is 25 MiB
      // (https://discord.com/developers/docs/resources/message#create-message).
      const total = files.reduce((sum, file) => sum + file.data.length, 0);
      if (total > this.uploadLimit) tooLarge();
      this.route(method, record, reply);
    } catch (error) {
      if (!(error instanceof DiscordError)) throw error;
      record.code = error.code;
      reply(error.status, { message: error.message, code: error.code });
    }
  }

  private route(
    method: string,
    record: RecordedRequest,
    reply: (status: number, json?: unknown) => void,
  ): void {
    for (const route of this.routes()) {
      if (route.method !== '*' && route.method !== method) continue;
      const match = route.path.exec(record.path);
      if (match) {
        route.handle(match, record, reply);
        return;
      }
    }
    reply(404, { message: `stand-in has no route ${method} ${record.path}`, code: 0 });
  }

  private routes(): {
    method: string;
    path: RegExp;
    handle: (
      match: RegExpExecArray,
      record: RecordedRequest,
      reply: (status: number, json?: unknown) => void,
    ) => void;
  }[] {
    return [
      {
        method: 'GET',
        path: /^\/gateway\/bot$/,
        handle: (_match, _record, reply) =>
          reply(200, {
            url: `ws://127.0.0.1:${this.port}/gateway`,
            shards: 1,
            session_start_limit: {
              total: 1000,
              remaining: 1000,
              reset_after: 0,
              max_concurrency: 1,
            },
          }),
      },
      {
        method: 'GET',
        path: /^\/guilds\/(\d+)$/,
        handle: (match, _record, reply) => {
          if (match[1] !== this.guildId) throw new DiscordError(404, 10004, 'Unknown Guild');
          reply(200, this.guildJson());
        },
      },
      {
        method: 'POST',
        path: /^\/interactions\/(\d+)\/([^/]+)\/callback$/,
        handle: (match, _record, reply) => {
          this.acknowledge(match[1] ?? '', match[2] ?? '');
          reply(204);
        },
      },
      {
        method: '*',
        path: /^\/webhooks\/(\d+)\/([^/]+)\/messages\/@original$/,
        handle: (match, record, reply) => {
          const interaction = this.usableToken(match[2] ?? '');
          this.checkInteractionUpload(interaction, record);
          reply(200, this.message(interaction.channelId, { ...record.body, webhook_id: match[1] }));
        },
      },
      {
        method: 'POST',
        path: /^\/webhooks\/(\d+)\/([^/]+)$/,
        handle: (match, record, reply) => {
          const interaction = this.usableToken(match[2] ?? '');
          this.checkInteractionUpload(interaction, record);
          reply(200, this.message(interaction.channelId, { ...record.body, webhook_id: match[1] }));
        },
      },
      {
        method: 'GET',
        path: /^\/channels\/(\d+)\/messages\/(\d+)$/,
        handle: (match, _record, reply) => {
          this.requireChannel(match[1] ?? '', Permission.READ_MESSAGE_HISTORY);
          const message = this.messages.get(match[2] ?? '');
          if (!message) throw new DiscordError(404, 10008, 'Unknown Message');
          reply(200, this.render(message));
        },
      },
      {
        method: 'PATCH',
        path: /^\/channels\/(\d+)\/messages\/(\d+)$/,
        handle: (match, record, reply) => {
          const channel = this.requireChannel(match[1] ?? '');
          // Nobody edits messages in an archived thread: 50083
          // (https://discord.com/developers/docs/topics/threads#active--archived-threads).
          if (channel.archived) {
            throw new DiscordError(400, 50083, 'Thread is archived');
          }
          const message = this.messages.get(match[2] ?? '');
          if (!message) throw new DiscordError(404, 10008, 'Unknown Message');
          Object.assign(message, record.body ?? {});
          reply(200, this.render(message));
        },
      },
      {
        method: '*',
        path: /^\/channels\/(\d+)\/messages\/(\d+)\/reactions\/([^/]+)\/@me$/,
        handle: (match, record, reply) => {
          this.reactAsBot(match[1] ?? '', match[2] ?? '', match[3] ?? '', record.method);
          reply(204);
        },
      },
      {
        method: 'POST',
        path: /^\/channels\/(\d+)\/messages\/(\d+)\/threads$/,
        handle: (match, record, reply) =>
          reply(201, this.startThread(match[1] ?? '', match[2] ?? '', record.body)),
      },
      {
        method: 'POST',
        path: /^\/channels\/(\d+)\/messages$/,
        handle: (match, record, reply) => {
          const channelId = match[1] ?? '';
          this.checkBotMessage(channelId, record);
          const message = this.message(channelId, { ...record.body });
          this.messages.set(message.id as string, message);
          reply(200, message);
        },
      },
      {
        // Create DM: the DM channel with a user
        // (https://discord.com/developers/docs/resources/user#create-dm).
        method: 'POST',
        path: /^\/users\/@me\/channels$/,
        handle: (_match, record, reply) => {
          const recipient = String(record.body?.recipient_id ?? '');
          reply(200, this.channelJson(this.dmChannel(recipient).id));
        },
      },
      {
        // Fresh signatures for attachment links (the endpoint Discord's clients use; see
        // https://discord.com/developers/docs/reference#signed-attachment-cdn-urls).
        method: 'POST',
        path: /^\/attachments\/refresh-urls$/,
        handle: (_match, record, reply) => {
          const urls = (record.body?.attachment_urls as string[] | undefined) ?? [];
          reply(200, {
            refreshed_urls: urls.map((original) => {
              const match = /\/attachments\/\d+\/(\d+)\/([^?]+)/.exec(original);
              const stored = match ? this.attachments.get(match[1] ?? '') : undefined;
              return {
                original,
                refreshed: stored ? this.signedUrl(stored.id, stored.filename) : original,
              };
            }),
          });
        },
      },
      {
        method: 'PUT',
        path: /^\/applications\/\d+(\/guilds\/\d+)?\/commands$/,
        handle: (_match, record, reply) => {
          const commands = Array.isArray(record.body) ? (record.body as Json[]) : [];
          reply(
            200,
            commands.map((command) => ({ ...command, id: snowflake() })),
          );
        },
      },
    ];
  }

  /**
   * The first response to an interaction: within 3 s of it being sent, and only once
   * (https://discord.com/developers/docs/interactions/receiving-and-responding#responding-to-an-interaction;
   * 10062 Unknown interaction, 40060 Interaction has already been acknowledged:
   * https://discord.com/developers/docs/topics/opcodes-and-status-codes#json-json-error-codes).
   */
  private acknowledge(id: string, token: string): void {
    const interaction = this.interactions.get(id);
    if (!interaction || interaction.token !== token) {
      throw new DiscordError(404, 10062, 'Unknown interaction');
    }
    if (interaction.acknowledged) {
      throw new DiscordError(400, 40060, 'Interaction has already been acknowledged.');
    }
    if (Date.now() - interaction.dispatchedAt > this.firstResponseMs) {
      throw new DiscordError(404, 10062, 'Unknown interaction');
    }
    interaction.acknowledged = true;
  }

  /**
   * An interaction token works for follow-ups and edits once the interaction was answered, for
   * 15 minutes after it was created
   * (https://discord.com/developers/docs/interactions/receiving-and-responding#followup-messages).
   */
  private usableToken(token: string): InteractionState {
    const interaction = [...this.interactions.values()].find((i) => i.token === token);
    if (!interaction?.acknowledged) {
      throw new DiscordError(404, 10015, 'Unknown Webhook');
    }
    if (Date.now() > interaction.createdAt + interaction.tokenLifetimeMs) {
      throw new DiscordError(401, 50027, 'Invalid Webhook Token');
    }
    return interaction as InteractionState;
  }

  /**
   * Interaction responses may carry files up to the interaction's `attachment_size_limit`
   * (https://discord.com/developers/docs/reference#uploading-files).
   */
  private checkInteractionUpload(interaction: InteractionState, record: RecordedRequest): void {
    if (record.files.some((file) => file.data.length > interaction.attachmentSizeLimit)) {
      tooLarge();
    }
  }

  /**
   * A channel the bot can see (https://discord.com/developers/docs/topics/permissions): an
   * unknown channel is 10003, one without VIEW_CHANNEL is 50001 Missing Access, a missing
   * `needed` permission is 50013 Missing Permissions
   * (https://discord.com/developers/docs/topics/opcodes-and-status-codes#json-json-error-codes).
   * A thread has its parent's permissions
   * (https://discord.com/developers/docs/topics/permissions#inherited-permissions-threads).
   */
  private requireChannel(channelId: string, needed = 0n): ChannelState {
    const channel = this.channels.get(channelId);
    if (!channel) throw new DiscordError(404, 10003, 'Unknown Channel');
    const permissions = channel.parentId
      ? (this.channels.get(channel.parentId)?.permissions ?? 0n)
      : channel.permissions;
    if (!(permissions & Permission.VIEW_CHANNEL)) {
      throw new DiscordError(403, 50001, 'Missing Access');
    }
    if ((permissions & needed) !== needed) {
      throw new DiscordError(403, 50013, 'Missing Permissions');
    }
    return channel;
  }

  /**
   * The bot's own message
   * (https://discord.com/developers/docs/resources/message#create-message): SEND_MESSAGES (in
   * a thread SEND_MESSAGES_IN_THREADS), ATTACH_FILES for files; not in a locked thread (160005);
   * each file within the server's upload limit by Boost Tier (10 MiB in DMs)
   * (https://discord.com/developers/docs/reference#uploading-files); 40005 over it.
   */
  private checkBotMessage(channelId: string, record: RecordedRequest): void {
    const known = this.channels.get(channelId);
    const send =
      known?.type === 11 ? Permission.SEND_MESSAGES_IN_THREADS : Permission.SEND_MESSAGES;
    const files = record.files.length > 0 ? Permission.ATTACH_FILES : 0n;
    const channel = this.requireChannel(channelId, send | files);
    // Nobody without MANAGE_THREADS posts in a locked thread
    // (https://discord.com/developers/docs/topics/threads#locked-threads).
    if (channel.locked) throw new DiscordError(403, 160005, 'Thread is locked');
    // Sending in an archived (not locked) thread unarchives it
    // (https://discord.com/developers/docs/topics/threads#active--archived-threads).
    channel.archived = false;
    const limit = channel.type === 1 ? 10 * MIB : guildUploadLimit(this.premiumTier);
    if (record.files.some((file) => file.data.length > limit)) tooLarge();
  }

  /**
   * Start Thread from Message: the thread has the message's id, so a message has one thread at
   * most (160004) (https://discord.com/developers/docs/resources/channel#start-thread-from-message).
   */
  private startThread(channelId: string, messageId: string, body: Json | undefined): Json {
    this.requireChannel(channelId, Permission.CREATE_PUBLIC_THREADS);
    const message = this.messages.get(messageId);
    if (!message || message.channel_id !== channelId) {
      throw new DiscordError(404, 10008, 'Unknown Message');
    }
    if (this.channels.has(messageId)) {
      throw new DiscordError(400, 160004, 'A thread has already been created for this message');
    }
    const thread: ChannelState = {
      id: messageId,
      type: 11,
      parentId: channelId,
      permissions: 0n,
      locked: false,
      archived: false,
    };
    this.channels.set(messageId, thread);
    const json = { ...this.threadJson(thread), name: body?.name };
    // The starter message now has its thread (flag HAS_THREAD, 1 << 5).
    message.thread = json;
    message.flags = Number(message.flags ?? 0) | (1 << 5);
    return json;
  }

  /**
   * Create / Delete Own Reaction (https://discord.com/developers/docs/resources/message#create-reaction):
   * READ_MESSAGE_HISTORY, and ADD_REACTIONS when nobody has reacted with that emoji yet; the
   * emoji URL-encoded, a custom one as `name:id` (else 10014 Unknown Emoji).
   */
  private reactAsBot(
    channelId: string,
    messageId: string,
    routeEmoji: string,
    method: string,
  ): void {
    let emoji: string;
    try {
      emoji = decodeURIComponent(routeEmoji);
    } catch {
      throw new DiscordError(400, 10014, 'Unknown Emoji');
    }
    const custom = /^(\w+):(\d+)$/.exec(emoji);
    const plausible = custom
      ? this.customEmojis.get(custom[2] ?? '') === custom[1]
      : !/[<>:\s]/.test(emoji) && !/^\w+$/.test(emoji) && emoji.length > 0;
    if (!plausible) throw new DiscordError(400, 10014, 'Unknown Emoji');
    const key = `${messageId}:${emoji}`;
    const users = this.reactions.get(key) ?? new Set<string>();
    const needed =
      method === 'PUT' && users.size === 0
        ? Permission.READ_MESSAGE_HISTORY | Permission.ADD_REACTIONS
        : Permission.READ_MESSAGE_HISTORY;
    this.requireChannel(channelId, needed);
    if (!this.messages.has(messageId)) throw new DiscordError(404, 10008, 'Unknown Message');
    if (method === 'PUT') users.add(this.botUserId);
    else users.delete(this.botUserId);
    this.reactions.set(key, users);
  }

  /** Serves a signed link: 404 once `ex` has passed or when the signature is wrong. */
  private serveAttachment(url: URL, request: IncomingMessage, response: ServerResponse): void {
    const id = url.pathname.split('/')[3] ?? '';
    const stored = this.attachments.get(id);
    const ex = url.searchParams.get('ex') ?? '';
    const valid =
      stored &&
      url.searchParams.get('hm') === this.signature(id, ex) &&
      Number.parseInt(ex, 16) * 1000 > Date.now();
    if (!stored || !valid) {
      response
        .writeHead(404, { 'content-type': 'text/plain' })
        .end('This content is no longer available.');
      return;
    }
    const range = /^bytes=(\d+)-(\d*)$/.exec(request.headers.range ?? '');
    const size = stored.data.length;
    if (range) {
      const start = Number(range[1]);
      const end = Math.min(range[2] ? Number(range[2]) : size - 1, size - 1);
      if (start >= size) {
        response.writeHead(416, { 'content-range': `bytes */${size}` }).end();
        return;
      }
      response.writeHead(206, {
        'content-type': stored.contentType,
        'content-length': String(end - start + 1),
        'content-range': `bytes ${start}-${end}/${size}`,
        'accept-ranges': 'bytes',
      });
      response.end(request.method === 'HEAD' ? undefined : stored.data.subarray(start, end + 1));
      return;
    }
    response.writeHead(200, {
      'content-type': stored.contentType,
      'content-length': String(size),
      'accept-ranges': 'bytes',
    });
    response.end(request.method === 'HEAD' ? undefined : stored.data);
  }
}

/** 413 with 40005 Request entity too large. */
function tooLarge(): never {
  throw new DiscordError(413, 40005, 'Request entity too large');
}

/** A server's per-file limit by Boost Tier: 10 MiB, level 2 50 MiB, level 3 100 MiB. */
function guildUploadLimit(tier: number): number {
  return tier === 3 ? 100 * MIB : tier === 2 ? 50 * MIB : 10 * MIB;
}

function user(id: string, username: string, bot = false): Json {
  return { id, username, discriminator: '0', global_name: null, avatar: null, bot };
}

function member(userId: string, bot = false): Json {
  return {
    user: user(userId, bot ? 'bgremover' : `user${userId.slice(-4)}`, bot),
    roles: [],
    joined_at: new Date().toISOString(),
    deaf: false,
    mute: false,
    flags: 0,
  };
}

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

/** JSON bodies, and discord.js's multipart uploads (`payload_json` plus `files[n]`). */
async function parseBody(
  request: IncomingMessage,
  raw: Buffer,
): Promise<{ body: Record<string, unknown> | undefined; files: RecordedFile[] }> {
  const type = request.headers['content-type'] ?? '';
  if (raw.length === 0) return { body: undefined, files: [] };
  if (type.startsWith('multipart/form-data')) {
    const form = await new Response(raw, { headers: { 'content-type': type } }).formData();
    const files: RecordedFile[] = [];
    let body: Record<string, unknown> | undefined;
    for (const [key, value] of form.entries()) {
      if (key === 'payload_json' && typeof value === 'string') body = JSON.parse(value);
      else if (typeof value !== 'string') {
        files.push({
          name: value.name,
          contentType: value.type,
          data: Buffer.from(await value.arrayBuffer()),
        });
      }
    }
    return { body, files };
  }
  return { body: JSON.parse(raw.toString()) as Record<string, unknown>, files: [] };
}
