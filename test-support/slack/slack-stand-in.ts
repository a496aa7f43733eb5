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
  url_private: string;
  url_private_download: string;
  mode: 'hosted';
}

export interface SlackStandIn {
  /** `http://127.0.0.1:PORT` */
  origin: string;
  /** The Web API base URL to give clients (`slackApiUrl`). */
  apiUrl: string;
  calls: RecordedCall[];
  /** Bytes POSTed to upload URLs, by file id. */
  uploads: Map<string, Buffer>;
  /** Registers a file, served to requests that carry the bot token. */
  addFile(name: string, mimetype: string, bytes: Buffer): StandInFile;
  /** Registers a message for conversations.history. */
  addMessage(channel: string, message: { ts: string; thread_ts?: string; files?: unknown[] }): void;
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

/**
 * A loopback stand-in for Slack: the Web API methods the app and the worker's adapter call
 * (auth.test, chat.*, reactions.*, views.open, files.info, conversations.*, the three steps of
 * files.uploadV2), the upload URL itself, and file downloads that require the bot token.
 */
export async function startSlackStandIn(botToken: string): Promise<SlackStandIn> {
  const calls: RecordedCall[] = [];
  const uploads = new Map<string, Buffer>();
  const files = new Map<string, { file: StandInFile; bytes: Buffer }>();
  const messages = new Map<string, { ts: string; thread_ts?: string; files?: unknown[] }>();
  const waiters = new Set<() => void>();
  let counter = 0;
  let origin = '';
  const nextTs = () => `${Math.floor(Date.now() / 1000)}.${String(++counter).padStart(6, '0')}`;
  const nextId = (prefix: string) => `${prefix}${String(++counter).padStart(9, '0')}`;

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
    const answered =
      token === botToken ? answer(method, params) : { ok: false, error: 'invalid_auth' };
    calls.push({ method, params, token, answer: answered });
    for (const wake of waiters) wake();
    json(response, answered);
  }

  function answer(method: string, params: Record<string, unknown>): Record<string, unknown> {
    switch (method) {
      case 'auth.test':
        return { ok: true, user_id: 'UBOT', bot_id: 'BBOT', team_id: 'T1', user: 'bgremover' };
      case 'chat.postMessage':
        return { ok: true, channel: params.channel, ts: nextTs() };
      case 'chat.postEphemeral':
        return { ok: true, message_ts: nextTs() };
      case 'chat.update':
        return { ok: true, channel: params.channel, ts: params.ts };
      case 'reactions.add':
      case 'reactions.remove':
        return { ok: true };
      case 'views.open':
        return { ok: true, view: { id: nextId('V') } };
      case 'files.info': {
        const known = files.get(String(params.file));
        return known ? { ok: true, file: known.file } : { ok: false, error: 'file_not_found' };
      }
      case 'conversations.history':
      case 'conversations.replies': {
        const message = messages.get(`${params.channel}/${params.latest ?? params.ts}`);
        return { ok: true, messages: message ? [message] : [], has_more: false };
      }
      case 'files.getUploadURLExternal': {
        const fileId = nextId('F');
        return { ok: true, upload_url: `${origin}/upload/${fileId}`, file_id: fileId };
      }
      case 'files.completeUploadExternal': {
        const listed = JSON.parse(String(params.files)) as { id: string; title?: string }[];
        return { ok: true, files: listed.map((file) => ({ id: file.id, title: file.title })) };
      }
      default:
        return { ok: false, error: 'unknown_method' };
    }
  }

  function serveFile(url: URL, request: IncomingMessage, response: ServerResponse): void {
    const id = /-(F[A-Z0-9]+)\//.exec(url.pathname)?.[1];
    const known = id ? files.get(id) : undefined;
    if (request.headers.authorization !== `Bearer ${botToken}`) {
      response.writeHead(403);
      response.end();
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

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    origin,
    apiUrl: `${origin}/api/`,
    calls,
    uploads,
    nextTs,
    addFile(name, mimetype, bytes) {
      const id = nextId('F');
      const url = `${origin}/files-pri/T1-${id}/${encodeURIComponent(name)}`;
      const file: StandInFile = {
        id,
        name,
        mimetype,
        filetype: name.split('.').pop() ?? '',
        size: bytes.length,
        url_private: url,
        url_private_download: `${url}?download=1`,
        mode: 'hosted',
      };
      files.set(id, { file, bytes });
      return file;
    },
    addMessage(channel, message) {
      messages.set(`${channel}/${message.ts}`, message);
    },
    callsTo: (method) => calls.filter((call) => call.method === method),
    waitForCall(method, predicate = () => true, timeoutMs = 90_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = calls.find((call) => call.method === method && predicate(call));
          if (!found) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(`no ${method} call arrived; calls: ${calls.map((c) => c.method).join(', ')}`),
          );
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
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
