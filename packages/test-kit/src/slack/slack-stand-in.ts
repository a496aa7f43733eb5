import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One Web API call the stand-in received: the method and its parameters (form or JSON). */
export interface RecordedCall {
  method: string;
  params: Record<string, unknown>;
  token: string | undefined;
  /** What the stand-in answered. */
  answer: Record<string, unknown>;
}

/** A file the stand-in knows (files.info) and serves (its url_private_download). */
export interface StandInFile {
  id: string;
  name: string;
  mimetype: string;
  filetype: string;
  size: number;
  /** Who uploaded it. */
  user: string;
  url_private: string;
  url_private_download: string;
  mode: 'hosted';
}

/** What kind of conversation a channel id is. */
export type ChannelKind = 'public' | 'private' | 'im' | 'mpim';

/** Something one person was told privately: an ephemeral message, a response_url answer or a DM. */
export interface Notice {
  via: 'ephemeral' | 'response_url' | 'dm';
  channel: string;
  user: string;
  text: string;
  threadTs: string | undefined;
  /** False when Slack accepts the call but the person never sees it (an ephemeral in an empty thread). */
  shown: boolean;
}

/** The bot user's id in the stand-in's workspace. */
export const BOT_USER_ID = 'UBOT';

/** The bot scopes the stand-in grants unless told otherwise (apps/slack/manifest.yaml's). */
export const DEFAULT_SCOPES = [
  'chat:write',
  'commands',
  'files:read',
  'files:write',
  'reactions:read',
  'reactions:write',
  'channels:history',
  'groups:history',
  'im:history',
  'mpim:history',
  'channels:read',
  'groups:read',
  'im:read',
  'mpim:read',
  'channels:join',
];

export interface SlackStandInOptions {
  scopes?: readonly string[];
}

export interface SlackStandIn {
  /** `http://127.0.0.1:PORT` */
  origin: string;
  /** The Web API base URL to give clients (`slackApiUrl`). */
  apiUrl: string;
  calls: RecordedCall[];
  /** Bytes POSTed to upload URLs, by file id. */
  uploads: Map<string, Buffer>;
  /** Every private notice, shown or not, in the order they arrived. */
  notices: Notice[];
  /** The notices `user` actually saw. */
  noticesTo(user: string): Notice[];
  /** Waits until `user` has seen a notice whose text matches. */
  waitForNotice(user: string, text: RegExp, timeoutMs?: number): Promise<Notice>;
  /**
   * Registers a conversation. Unknown `C…` ids are public channels everyone but the bot is in;
   * unknown `D…`/`G…` ids do not exist for the bot (another people's DM, a private channel).
   */
  addChannel(id: string, kind: ChannelKind, members?: readonly string[]): void;
  /** Adds or removes a member (the bot is BOT_USER_ID): an invite, a kick, a leave. */
  setMember(channel: string, user: string, member: boolean): void;
  /**
   * Registers a file, shared in `sharedIn` (none: a file anyone may see, as in a public
   * channel), uploaded by `user`.
   */
  addFile(
    name: string,
    mimetype: string,
    bytes: Buffer,
    options?: { sharedIn?: readonly string[]; user?: string },
  ): StandInFile;
  /**
   * What Slack does when a person adds a file in a modal's file_input: refuses files over its
   * 10 MB limit, and otherwise gives the app the file object.
   */
  uploadThroughFileInput(name: string, mimetype: string, bytes: Buffer, user: string): StandInFile;
  /** Registers a message for conversations.history / conversations.replies. */
  addMessage(channel: string, message: { ts: string; thread_ts?: string; files?: unknown[] }): void;
  /** A response_url for one interaction by `user` in `channel` (30 minutes, 5 uses). */
  responseUrl(user: string, channel: string): string;
  /** A trigger_id for one interaction: views.open takes it once, within 3 seconds. */
  triggerId(): string;
  /**
   * Makes the next call to `method` fail as Slack does in an outage: an HTTP status (5xx) or
   * an `ok: false` error such as `internal_error`.
   */
  failNext(method: string, failure: { status: number } | { error: string }): void;
  /** Moves the stand-in's clock on (response_url expiry). */
  advanceClock(ms: number): void;
  /** A fresh message ts, as Slack writes them. */
  nextTs(): string;
  callsTo(method: string): RecordedCall[];
  /** Waits until a call to `method` matching `predicate` has been received. */
  waitForCall(
    method: string,
    predicate?: (call: RecordedCall) => boolean,
    timeoutMs?: number,
  ): Promise<RecordedCall>;
  close(): Promise<void>;
}

interface Channel {
  id: string;
  kind: ChannelKind;
  members: Set<string>;
  /** An auto-created public channel: every person (not the bot) is a member. */
  everyone: boolean;
}

type Answer = Record<string, unknown>;
/** How long views.open takes an interaction's trigger_id. */
const TRIGGER_LIFETIME_MS = 3000;
const refuse = (error: string): Answer => ({ ok: false, error });

/**
 * A loopback stand-in for Slack that refuses what Slack refuses (each rule cites the page that
 * documents it): the Web API methods the app calls (auth.test, chat.*, reactions.*, views.*,
 * files.info, conversations.*, the three steps of files.uploadV2), upload URLs, response_urls
 * and file downloads.
 */
export async function startSlackStandIn(
  botToken: string,
  options: SlackStandInOptions = {},
): Promise<SlackStandIn> {
  const scopes = new Set(options.scopes ?? DEFAULT_SCOPES);
  const calls: RecordedCall[] = [];
  const notices: Notice[] = [];
  const uploads = new Map<string, Buffer>();
  const files = new Map<string, { file: StandInFile; bytes: Buffer; sharedIn?: string[] }>();
  const messages = new Map<string, { ts: string; thread_ts?: string; files?: unknown[] }>();
  const replies = new Map<string, number>();
  const channels = new Map<string, Channel>();
  const responseUrls = new Map<
    string,
    { user: string; channel: string; at: number; uses: number }
  >();
  const triggers = new Map<string, { at: number; used: boolean }>();
  const pendingUploads = new Set<string>();
  const failures = new Map<string, { status: number } | { error: string }>();
  const waiters = new Set<() => void>();
  let counter = 0;
  let clockOffset = 0;
  let origin = '';
  const now = () => Date.now() + clockOffset;
  const nextTs = () => `${Math.floor(Date.now() / 1000)}.${String(++counter).padStart(6, '0')}`;
  const nextId = (prefix: string) => `${prefix}${String(++counter).padStart(9, '0')}`;
  const wake = () => {
    for (const waiter of waiters) waiter();
  };

  function channelOf(id: string): Channel | undefined {
    const known = channels.get(id);
    if (known) return known;
    if (!id.startsWith('C')) return undefined;
    const created: Channel = { id, kind: 'public', members: new Set(), everyone: true };
    channels.set(id, created);
    return created;
  }
  const isMember = (channel: Channel, user: string) =>
    channel.members.has(user) || (channel.everyone && user !== BOT_USER_ID);
  // A DM with the app always has the bot in it: https://api.slack.com/types/im
  const botIsMember = (channel: Channel) => channel.kind === 'im' || isMember(channel, BOT_USER_ID);
  // Public channels are visible to every member of the workspace, the bot included; private
  // ones and DMs only to their members: https://api.slack.com/methods/conversations.info
  const botCanSee = (channel: Channel | undefined): channel is Channel =>
    channel !== undefined && (channel.kind === 'public' || botIsMember(channel));
  const threadKey = (channel: string, ts: string) => `${channel}/${ts}`;
  const addReply = (channel: string, threadTs: string) =>
    replies.set(threadKey(channel, threadTs), (replies.get(threadKey(channel, threadTs)) ?? 0) + 1);

  /**
   * Where the bot may post: a conversation it is in, or, with chat:write.public, any public
   * channel (https://api.slack.com/methods/chat.postMessage, "not_in_channel";
   * https://api.slack.com/scopes/chat:write.public). A user id posts into the app's DM with them.
   */
  function postRefusal(channelId: string): string | undefined {
    if (channelId.startsWith('U')) return undefined;
    const channel = channelOf(channelId);
    if (!botCanSee(channel)) return 'channel_not_found';
    if (botIsMember(channel)) return undefined;
    if (channel.kind === 'public' && scopes.has('chat:write.public')) return undefined;
    return 'not_in_channel';
  }

  /** Methods that need the bot in the conversation, public or not. */
  function memberRefusal(channelId: string): string | undefined {
    const channel = channelOf(channelId);
    if (!botCanSee(channel)) return 'channel_not_found';
    return botIsMember(channel) ? undefined : 'not_in_channel';
  }

  function botCanSeeFile(entry: { sharedIn?: string[] }): boolean {
    if (!entry.sharedIn) return true;
    return entry.sharedIn.some((id) => botCanSee(channelOf(id)));
  }

  /**
   * files.info's file object as the bot sees it: `channels` (public), `groups` (private
   * channels the caller is in), `ims` (DMs the caller is in): https://api.slack.com/types/file
   */
  function fileAsSeen(entry: { file: StandInFile; sharedIn?: string[] }): Answer {
    const shared = (entry.sharedIn ?? []).map((id) => channelOf(id)).filter(botCanSee);
    return {
      ...entry.file,
      channels: shared.filter((c) => c.kind === 'public').map((c) => c.id),
      groups: shared.filter((c) => c.kind === 'private' || c.kind === 'mpim').map((c) => c.id),
      ims: shared.filter((c) => c.kind === 'im').map((c) => c.id),
    };
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: Error) => {
      response.writeHead(500, { 'content-type': 'text/plain' });
      response.end(error.message);
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', origin);
    const body = await readBody(request);
    if (url.pathname.startsWith('/files-pri/')) return serveFile(url, request, response);
    if (url.pathname.startsWith('/response')) return answerResponseUrl(url, body, response);
    if (url.pathname.startsWith('/upload/')) {
      const fileId = url.pathname.slice('/upload/'.length);
      uploads.set(fileId, await uploadedBytes(request, body));
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.end(`OK - ${uploads.get(fileId)?.length}`);
      return;
    }
    if (!url.pathname.startsWith('/api/')) {
      response.writeHead(404);
      response.end();
      return;
    }
    const method = url.pathname.slice('/api/'.length);
    const params = parseParams(request.headers['content-type'], body);
    const token = request.headers.authorization?.replace(/^Bearer /, '');
    const failure = failures.get(method);
    if (failure) {
      failures.delete(method);
      if ('status' in failure) {
        calls.push({ method, params, token, answer: { ok: false, status: failure.status } });
        wake();
        response.writeHead(failure.status, { 'content-type': 'text/plain' });
        response.end('Service Unavailable');
        return;
      }
      calls.push({ method, params, token, answer: refuse(failure.error) });
      wake();
      json(response, refuse(failure.error));
      return;
    }
    const answered = token === botToken ? answer(method, params) : refuse('invalid_auth');
    calls.push({ method, params, token, answer: answered });
    wake();
    json(response, answered);
  }

  function answer(method: string, params: Record<string, unknown>): Answer {
    const channelId = String(params.channel ?? params.channel_id ?? '');
    switch (method) {
      case 'auth.test':
        return { ok: true, user_id: BOT_USER_ID, bot_id: 'BBOT', team_id: 'T1', user: 'bgremover' };
      case 'chat.postMessage': {
        const refused = postRefusal(channelId);
        if (refused) return refuse(refused);
        const ts = nextTs();
        const channel = channelId.startsWith('U') ? `D${channelId.slice(1)}` : channelId;
        if (channelId.startsWith('U')) {
          notices.push({
            via: 'dm',
            channel,
            user: channelId,
            text: String(params.text),
            threadTs: undefined,
            shown: true,
          });
        }
        if (params.thread_ts) addReply(channel, String(params.thread_ts));
        messages.set(threadKey(channel, ts), {
          ts,
          ...(params.thread_ts ? { thread_ts: String(params.thread_ts) } : {}),
        });
        return { ok: true, channel, ts };
      }
      case 'chat.postEphemeral': {
        // The bot and the person must both be in the conversation:
        // https://api.slack.com/methods/chat.postEphemeral ("not_in_channel", "user_not_in_channel")
        const refused = memberRefusal(channelId);
        if (refused) return refuse(refused);
        const channel = channelOf(channelId);
        const user = String(params.user);
        if (channel && channel.kind !== 'im' && !isMember(channel, user)) {
          return refuse('user_not_in_channel');
        }
        const threadTs = params.thread_ts ? String(params.thread_ts) : undefined;
        // "Ephemeral messages in threads are only shown if there is already an active thread":
        // https://api.slack.com/methods/chat.postEphemeral (thread_ts). Slack still answers ok.
        const shown =
          threadTs === undefined || (replies.get(threadKey(channelId, threadTs)) ?? 0) > 0;
        notices.push({
          via: 'ephemeral',
          channel: channelId,
          user,
          text: String(params.text),
          threadTs,
          shown,
        });
        return { ok: true, message_ts: nextTs() };
      }
      case 'chat.update':
        return { ok: true, channel: params.channel, ts: params.ts };
      case 'reactions.add':
      case 'reactions.remove': {
        // https://api.slack.com/methods/reactions.add: the bot reacts only where it is a member.
        const refused = memberRefusal(channelId);
        return refused ? refuse(refused) : { ok: true };
      }
      case 'views.open': {
        // https://api.slack.com/methods/views.open: a trigger_id is exchanged once
        // (exchanged_trigger_id), and only within 3 seconds of the interaction
        // (triggers expire in three seconds: https://api.slack.com/interactivity/handling).
        const trigger = triggers.get(String(params.trigger_id ?? ''));
        if (!trigger) return refuse('invalid_trigger_id');
        if (trigger.used) return refuse('exchanged_trigger_id');
        if (now() - trigger.at > TRIGGER_LIFETIME_MS) return refuse('expired_trigger_id');
        trigger.used = true;
        return { ok: true, view: { id: nextId('V') } };
      }
      case 'views.publish':
        // https://api.slack.com/methods/views.publish: a Home tab view for one user.
        return { ok: true, view: { id: nextId('V') } };
      case 'files.info': {
        // A file the bot cannot see is "file_not_found": https://api.slack.com/methods/files.info
        const known = files.get(String(params.file));
        return known && botCanSeeFile(known)
          ? { ok: true, file: fileAsSeen(known) }
          : refuse('file_not_found');
      }
      case 'conversations.info': {
        // https://api.slack.com/methods/conversations.info: is_member; channel_not_found for
        // conversations the bot cannot see.
        const channel = channelOf(channelId);
        if (!botCanSee(channel)) return refuse('channel_not_found');
        return {
          ok: true,
          channel: {
            id: channel.id,
            is_channel: channel.kind === 'public',
            is_group: channel.kind === 'private',
            is_private: channel.kind !== 'public',
            is_im: channel.kind === 'im',
            is_mpim: channel.kind === 'mpim',
            ...(channel.kind === 'im' ? {} : { is_member: botIsMember(channel) }),
          },
        };
      }
      case 'conversations.members': {
        // https://api.slack.com/methods/conversations.members
        const channel = channelOf(channelId);
        if (!botCanSee(channel)) return refuse('channel_not_found');
        return { ok: true, members: [...channel.members], response_metadata: { next_cursor: '' } };
      }
      case 'conversations.join': {
        // Public channels only; needs channels:join: https://api.slack.com/methods/conversations.join
        if (!scopes.has('channels:join')) return refuse('missing_scope');
        const channel = channelOf(channelId);
        if (!botCanSee(channel)) return refuse('channel_not_found');
        if (channel.kind !== 'public') return refuse('method_not_supported_for_channel_type');
        channel.members.add(BOT_USER_ID);
        return { ok: true, channel: { id: channel.id, is_member: true } };
      }
      case 'conversations.history':
      case 'conversations.replies': {
        // Reading messages needs membership: https://api.slack.com/methods/conversations.history
        const refused = memberRefusal(channelId);
        if (refused) return refuse(refused);
        const message = messages.get(threadKey(channelId, String(params.latest ?? params.ts)));
        return { ok: true, messages: message ? [message] : [], has_more: false };
      }
      case 'files.getUploadURLExternal': {
        const fileId = nextId('F');
        pendingUploads.add(fileId);
        return { ok: true, upload_url: `${origin}/upload/${fileId}`, file_id: fileId };
      }
      case 'files.completeUploadExternal': {
        // Sharing into a conversation needs the bot in it, whatever chat:write.public allows:
        // https://api.slack.com/methods/files.completeUploadExternal ("not_in_channel")
        if (channelId) {
          const refused = memberRefusal(channelId);
          if (refused) return refuse(refused);
        }
        const listed = JSON.parse(String(params.files)) as { id: string; title?: string }[];
        if (listed.some((file) => !pendingUploads.has(file.id))) return refuse('file_not_found');
        if (channelId && params.thread_ts) addReply(channelId, String(params.thread_ts));
        return { ok: true, files: listed.map((file) => ({ id: file.id, title: file.title })) };
      }
      default:
        return refuse('unknown_method');
    }
  }

  /**
   * A response_url works up to five times within 30 minutes:
   * https://api.slack.com/interactivity/handling#message_responses
   */
  function answerResponseUrl(url: URL, body: Buffer, response: ServerResponse): void {
    const entry = responseUrls.get(url.pathname);
    if (!entry || entry.uses >= 5 || now() - entry.at > 30 * 60_000) {
      calls.push({
        method: 'response_url',
        params: {},
        token: undefined,
        answer: refuse('expired_url'),
      });
      wake();
      response.writeHead(404, { 'content-type': 'text/plain' });
      response.end('expired_url');
      return;
    }
    entry.uses += 1;
    const payload = JSON.parse(body.toString() || '{}') as Record<string, unknown>;
    calls.push({ method: 'response_url', params: payload, token: undefined, answer: { ok: true } });
    if (payload.response_type !== 'in_channel') {
      notices.push({
        via: 'response_url',
        channel: entry.channel,
        user: entry.user,
        text: String(payload.text ?? ''),
        threadTs: undefined,
        shown: true,
      });
    }
    wake();
    json(response, { ok: true });
  }

  /**
   * Private file URLs need the bot token, and a file the token cannot see; Slack answers both
   * with its sign-in page, an HTML document at status 200: https://api.slack.com/types/file
   * ("Authentication" for url_private).
   */
  function serveFile(url: URL, request: IncomingMessage, response: ServerResponse): void {
    const id = /-(F[A-Z0-9]+)\//.exec(url.pathname)?.[1];
    const known = id ? files.get(id) : undefined;
    const authorized = request.headers.authorization === `Bearer ${botToken}`;
    if (!authorized || (known && !botCanSeeFile(known))) {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      response.end(
        '<!DOCTYPE html><html><head><title>Slack</title></head><body>Sign in</body></html>',
      );
      return;
    }
    if (!known) {
      response.writeHead(404);
      response.end();
      return;
    }
    response.writeHead(200, {
      'content-type': known.file.mimetype,
      'content-length': String(known.bytes.length),
    });
    response.end(known.bytes);
  }

  function addFile(
    name: string,
    mimetype: string,
    bytes: Buffer,
    fileOptions: { sharedIn?: readonly string[]; user?: string } = {},
  ): StandInFile {
    const id = nextId('F');
    const url = `${origin}/files-pri/T1-${id}/${encodeURIComponent(name)}`;
    const file: StandInFile = {
      id,
      name,
      mimetype,
      filetype: name.split('.').pop() ?? '',
      size: bytes.length,
      user: fileOptions.user ?? 'U0AUTHOR',
      url_private: url,
      url_private_download: `${url}?download=1`,
      mode: 'hosted',
    };
    files.set(id, {
      file,
      bytes,
      ...(fileOptions.sharedIn ? { sharedIn: [...fileOptions.sharedIn] } : {}),
    });
    return file;
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  function waitFor<T>(
    find: () => T | undefined,
    describe: () => string,
    timeoutMs: number,
  ): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = find();
        if (found === undefined) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(found);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(describe()));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  }

  return {
    origin,
    apiUrl: `${origin}/api/`,
    calls,
    uploads,
    notices,
    nextTs,
    noticesTo: (user) => notices.filter((notice) => notice.user === user && notice.shown),
    waitForNotice: (user, text, timeoutMs = 30_000) =>
      waitFor(
        () => notices.find((n) => n.user === user && n.shown && text.test(n.text)),
        () =>
          `${user} saw no notice matching ${text}; notices: ${JSON.stringify(notices.filter((n) => n.user === user))}`,
        timeoutMs,
      ),
    addChannel(id, kind, members = []) {
      channels.set(id, { id, kind, members: new Set(members), everyone: false });
    },
    setMember(channelId, user, member) {
      const channel = channelOf(channelId);
      if (!channel) throw new Error(`no channel ${channelId}`);
      if (member) channel.members.add(user);
      else channel.members.delete(user);
    },
    addFile,
    uploadThroughFileInput(name, mimetype, bytes, user) {
      // "There is a 10MB file size limit":
      // https://api.slack.com/reference/block-kit/block-elements#file_input
      if (bytes.length > 10 * 1024 * 1024) {
        throw new Error(`Slack refuses ${name} in a file_input: files over 10 MB are not accepted`);
      }
      // The app that owns the form may read the file; it is shared nowhere yet.
      return addFile(name, mimetype, bytes, { user });
    },
    addMessage(channel, message) {
      messages.set(threadKey(channel, message.ts), message);
      if (message.thread_ts && message.thread_ts !== message.ts)
        addReply(channel, message.thread_ts);
    },
    triggerId() {
      const id = `${++counter}.${Date.now()}.${randomBytes(8).toString('hex')}`;
      triggers.set(id, { at: now(), used: false });
      return id;
    },
    responseUrl(user, channel) {
      const path = `/response/${nextId('R')}`;
      responseUrls.set(path, { user, channel, at: now(), uses: 0 });
      return `${origin}${path}`;
    },
    failNext(method, failure) {
      failures.set(method, failure);
    },
    advanceClock(ms) {
      clockOffset += ms;
    },
    callsTo: (method) => calls.filter((call) => call.method === method),
    waitForCall: (method, predicate = () => true, timeoutMs = 90_000) =>
      waitFor(
        () => calls.find((call) => call.method === method && predicate(call)),
        () => `no ${method} call arrived; calls: ${calls.map((c) => c.method).join(', ')}`,
        timeoutMs,
      ),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function json(response: ServerResponse, body: unknown): void {
  response.writeHead(200, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function parseParams(contentType: string | undefined, body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {};
  if (contentType?.includes('application/json'))
    return JSON.parse(body.toString()) as Record<string, unknown>;
  return Object.fromEntries(new URLSearchParams(body.toString()));
}

/** The file in a multipart upload (how the Web API client posts it), or the raw body. */
async function uploadedBytes(request: IncomingMessage, body: Buffer): Promise<Buffer> {
  const contentType = request.headers['content-type'] ?? '';
  if (!contentType.startsWith('multipart/form-data')) return body;
  const form = await new Request('http://upload.local/', {
    method: 'POST',
    headers: { 'content-type': contentType },
    body: new Uint8Array(body),
  }).formData();
  for (const value of form.values()) {
    if (typeof value !== 'string') return Buffer.from(await value.arrayBuffer());
  }
  throw new Error('the upload carried no file');
}
