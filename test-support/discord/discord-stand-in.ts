import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SnowflakeUtil } from 'discord.js';
import { type WebSocket, WebSocketServer } from 'ws';

/**
 * A loopback stand-in for Discord, driven by the real discord.js client and REST client: a JSON
 * WebSocket gateway (HELLO, IDENTIFY -> READY + GUILD_CREATE, heartbeats, dispatches) and the
 * REST routes the bot and the worker use, each recorded. It also serves attachment bytes (the
 * "CDN", on 127.0.0.1), can answer the next matching request with a 429, and enforces an upload
 * limit with Discord's 40005 error.
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
  at: number;
}

interface StoredAttachment {
  id: string;
  filename: string;
  contentType: string;
  data: Buffer;
}

export type Json = Record<string, unknown>;

const PERMISSIONS = '1071698660929';

/** A fresh snowflake; `ageMs` back-dates it (discord.js reads creation times from ids). */
export function snowflake(ageMs = 0): string {
  return SnowflakeUtil.generate({ timestamp: Date.now() - ageMs }).toString();
}

export class DiscordStandIn {
  readonly applicationId = snowflake();
  readonly botUserId = this.applicationId;
  readonly guildId = snowflake();
  readonly channelId = snowflake();
  readonly requests: RecordedRequest[] = [];
  /** Largest file the REST routes accept; bigger uploads get 413 / code 40005. */
  uploadLimit = 25 * 1024 * 1024;
  private readonly attachments = new Map<string, StoredAttachment>();
  private readonly messages = new Map<string, Json>();
  private readonly rateLimits: { method: string; path: RegExp; retryAfter: number }[] = [];
  private readonly sockets = new Set<WebSocket>();
  private sequence = 0;
  private readonly gateway: WebSocketServer;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {
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
  addAttachment(filename: string, data: Buffer, contentType: string): Json {
    const id = snowflake();
    this.attachments.set(id, { id, filename, contentType, data });
    return {
      id,
      filename,
      size: data.length,
      url: `http://127.0.0.1:${this.port}/attachments/${id}/${filename}`,
      proxy_url: `http://127.0.0.1:${this.port}/attachments/${id}/${filename}`,
      content_type: contentType,
    };
  }

  /** A message someone posted in the test channel (fetchable over REST). */
  postMessage(attachments: Json[], authorId = snowflake()): Json {
    const message = this.message(this.channelId, {
      author: user(authorId, 'poster'),
      attachments,
    });
    this.messages.set(message.id as string, message);
    return message;
  }

  /** Dispatches `/removebg` with the given options; returns the interaction id and token. */
  slashCommand(input: {
    file: Json;
    options?: { name: string; type: number; value: unknown }[];
    background?: Json;
    userId?: string;
    attachmentSizeLimit?: number;
    ageMs?: number;
  }): { id: string; token: string } {
    const attachments: Json = { [input.file.id as string]: input.file };
    const options = [{ name: 'file', type: 11, value: input.file.id }, ...(input.options ?? [])];
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
    input: { userId?: string; attachmentSizeLimit?: number } = {},
  ): { id: string; token: string } {
    return this.interaction(
      {
        id: snowflake(),
        name: 'Remove background',
        type: 3,
        target_id: message.id,
        resolved: { messages: { [message.id as string]: message } },
      },
      input,
    );
  }

  /** Dispatches MESSAGE_REACTION_ADD (the message is not in the client's cache: a partial). */
  react(message: Json, emoji: string, userId: string): void {
    this.dispatch('MESSAGE_REACTION_ADD', {
      user_id: userId,
      channel_id: message.channel_id,
      message_id: message.id,
      guild_id: this.guildId,
      member: member(userId),
      emoji: { id: null, name: emoji },
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
  async waitFor<T>(probe: () => T | undefined | false, timeoutMs = 20_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = probe();
      if (value) return value;
      if (Date.now() > deadline) {
        const seen = this.requests.map((r) => `${r.method} ${r.path} ${r.status}`).join('\n');
        throw new Error(`timed out waiting; requests so far:\n${seen}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.terminate();
    await new Promise<void>((resolve) => this.gateway.close(() => resolve()));
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private interaction(
    data: Json,
    input: { userId?: string; attachmentSizeLimit?: number; ageMs?: number },
  ): { id: string; token: string } {
    const id = snowflake(input.ageMs ?? 0);
    const token = `token-${randomBytes(8).toString('hex')}`;
    this.dispatch('INTERACTION_CREATE', {
      id,
      application_id: this.applicationId,
      type: 2,
      token,
      version: 1,
      guild_id: this.guildId,
      channel_id: this.channelId,
      channel: this.channel(),
      member: { ...member(input.userId ?? snowflake()), permissions: PERMISSIONS },
      app_permissions: PERMISSIONS,
      locale: 'en-US',
      guild_locale: 'en-US',
      entitlements: [],
      authorizing_integration_owners: { '0': this.guildId },
      context: 0,
      attachment_size_limit: input.attachmentSizeLimit ?? 10 * 1024 * 1024,
      data: { ...data, guild_id: this.guildId },
    });
    return { id, token };
  }

  private channel(): Json {
    return {
      id: this.channelId,
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

  private message(channelId: string, fields: Json): Json {
    return {
      id: snowflake(),
      channel_id: channelId,
      guild_id: this.guildId,
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
      emojis: [],
      stickers: [],
      features: [],
      mfa_level: 0,
      application_id: null,
      system_channel_id: null,
      system_channel_flags: 0,
      rules_channel_id: null,
      joined_at: new Date().toISOString(),
      large: false,
      unavailable: false,
      member_count: 1,
      voice_states: [],
      members: [member(this.botUserId, true)],
      channels: [this.channel()],
      threads: [],
      presences: [],
      stage_instances: [],
      guild_scheduled_events: [],
      premium_tier: 0,
      preferred_locale: 'en-US',
      nsfw_level: 0,
      premium_progress_bar_enabled: false,
    });
  }

  private async onRequest(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', `http://127.0.0.1:${this.port}`);
    const path = url.pathname;
    const method = request.method ?? 'GET';

    if (path.startsWith('/attachments/')) {
      this.serveAttachment(path, request, response);
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
    if (files.some((file) => file.data.length > this.uploadLimit)) {
      reply(413, { message: 'Request entity too large', code: 40005 });
      return;
    }
    this.route(method, record, reply);
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
        method: 'POST',
        path: /^\/interactions\/\d+\/[^/]+\/callback$/,
        handle: (_match, _record, reply) => reply(204),
      },
      {
        method: '*',
        path: /^\/webhooks\/(\d+)\/([^/]+)\/messages\/@original$/,
        handle: (match, record, reply) =>
          reply(200, this.message(this.channelId, { ...record.body, webhook_id: match[1] })),
      },
      {
        method: 'POST',
        path: /^\/webhooks\/(\d+)\/([^/]+)$/,
        handle: (match, record, reply) =>
          reply(200, this.message(this.channelId, { ...record.body, webhook_id: match[1] })),
      },
      {
        method: 'GET',
        path: /^\/channels\/(\d+)\/messages\/(\d+)$/,
        handle: (match, _record, reply) => {
          const message = this.messages.get(match[2] ?? '');
          if (message) reply(200, message);
          else reply(404, { message: 'Unknown Message', code: 10008 });
        },
      },
      {
        method: '*',
        path: /^\/channels\/\d+\/messages\/\d+\/reactions\/[^/]+\/@me$/,
        handle: (_match, _record, reply) => reply(204),
      },
      {
        method: 'POST',
        path: /^\/channels\/(\d+)\/messages\/(\d+)\/threads$/,
        handle: (match, record, reply) => reply(201, this.thread(match[1] ?? '', record.body)),
      },
      {
        method: 'POST',
        path: /^\/channels\/(\d+)\/messages$/,
        handle: (match, record, reply) =>
          reply(200, this.message(match[1] ?? this.channelId, { ...record.body })),
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

  private thread(parentId: string, body: Record<string, unknown> | undefined): Json {
    return {
      id: snowflake(),
      type: 11,
      guild_id: this.guildId,
      parent_id: parentId,
      name: body?.name,
      owner_id: this.botUserId,
      last_message_id: null,
      rate_limit_per_user: 0,
      message_count: 0,
      member_count: 1,
      flags: 0,
      total_message_sent: 0,
      thread_metadata: {
        archived: false,
        auto_archive_duration: 1440,
        archive_timestamp: new Date().toISOString(),
        locked: false,
      },
    };
  }

  private serveAttachment(path: string, request: IncomingMessage, response: ServerResponse): void {
    const id = path.split('/')[2] ?? '';
    const stored = this.attachments.get(id);
    if (!stored) {
      response.writeHead(404).end();
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
