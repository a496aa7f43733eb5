import { DiscordStandIn, snowflake } from '@bgremover/test-kit/discord/stand-in';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The stand-in refuses what Discord refuses (each rule cites its documentation page in the
 * stand-in's code). These tests talk to it over HTTP directly, without the bot.
 */

let standIn: DiscordStandIn;

beforeAll(async () => {
  standIn = await DiscordStandIn.start();
});

afterAll(async () => {
  await standIn?.close();
});

interface Answer {
  status: number;
  json: { code?: number; id?: string; [key: string]: unknown } | undefined;
}

async function call(
  method: string,
  path: string,
  body?: unknown,
  files: { name: string; data: Buffer }[] = [],
): Promise<Answer> {
  const init: RequestInit = { method, headers: { authorization: 'Bot stand-in-token' } };
  if (files.length > 0) {
    const form = new FormData();
    form.set('payload_json', JSON.stringify(body ?? {}));
    files.forEach((file, index) => {
      form.set(`files[${index}]`, new Blob([new Uint8Array(file.data)]), file.name);
    });
    init.body = form;
  } else if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { ...init.headers, 'content-type': 'application/json' };
  }
  const response = await fetch(`${standIn.apiUrl}/v10${path}`, init);
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : undefined };
}

const MIB = 1024 * 1024;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the Discord stand-in enforces the platform rules', () => {
  it('answers an interaction once (40060), within the first-response deadline (10062)', async () => {
    const first = standIn.slashCommand({
      file: standIn.addAttachment('a.png', Buffer.from('x'), 'image/png'),
    });
    const callback = `/interactions/${first.id}/${first.token}/callback`;
    expect((await call('POST', callback, { type: 5 })).status).toBe(204);
    const second = await call('POST', callback, { type: 5 });
    expect([second.status, second.json?.code]).toEqual([400, 40060]);

    standIn.firstResponseMs = 100;
    try {
      const late = standIn.slashCommand({
        file: standIn.addAttachment('b.png', Buffer.from('x'), 'image/png'),
      });
      await sleep(200);
      const answer = await call('POST', `/interactions/${late.id}/${late.token}/callback`, {
        type: 5,
      });
      expect([answer.status, answer.json?.code]).toEqual([404, 10062]);
    } finally {
      standIn.firstResponseMs = 3_000;
    }
  });

  it('takes follow-ups only while the token lives (50027 after)', async () => {
    const { id, token } = standIn.slashCommand({
      file: standIn.addAttachment('a.png', Buffer.from('x'), 'image/png'),
      tokenLifetimeMs: 150,
    });
    const early = await call('POST', `/webhooks/${standIn.applicationId}/${token}`, {
      content: 'x',
    });
    expect([early.status, early.json?.code]).toEqual([404, 10015]);
    await call('POST', `/interactions/${id}/${token}/callback`, { type: 5 });
    expect(
      (await call('POST', `/webhooks/${standIn.applicationId}/${token}`, { content: 'x' })).status,
    ).toBe(200);
    await sleep(200);
    const late = await call('POST', `/webhooks/${standIn.applicationId}/${token}`, {
      content: 'x',
    });
    expect([late.status, late.json?.code]).toEqual([401, 50027]);
  });

  it('starts one thread per message, with the message id (160004 for a second)', async () => {
    const message = standIn.postMessage([]);
    const path = `/channels/${standIn.channelId}/messages/${message.id}/threads`;
    const thread = await call('POST', path, { name: 'one' });
    expect([thread.status, thread.json?.id]).toEqual([201, message.id]);
    const again = await call('POST', path, { name: 'two' });
    expect([again.status, again.json?.code]).toEqual([400, 160004]);
    const fetched = await call('GET', `/channels/${standIn.channelId}/messages/${message.id}`);
    expect(Number(fetched.json?.flags) & 32).toBe(32);
    standIn.setThreadState(String(message.id), { locked: true });
    const locked = await call('POST', `/channels/${message.id}/messages`, { content: 'x' });
    expect([locked.status, locked.json?.code]).toEqual([403, 160005]);
  });

  it('serves signed CDN links until ex (then 404), and refreshes them', async () => {
    standIn.urlLifetimeMs = 1_500;
    let attachment: Record<string, unknown>;
    try {
      attachment = standIn.addAttachment('a.png', Buffer.from('bytes'), 'image/png');
    } finally {
      standIn.urlLifetimeMs = 24 * 3600_000;
    }
    const url = String(attachment.url);
    expect(new URL(url).searchParams.get('ex')).toMatch(/^[0-9a-f]+$/);
    expect((await fetch(url)).status).toBe(200);
    const forged = url.replace(/hm=[0-9a-f]+/, 'hm=00');
    expect((await fetch(forged)).status).toBe(404);
    await sleep(2_100);
    expect((await fetch(url)).status).toBe(404);
    const refreshed = await call('POST', '/attachments/refresh-urls', { attachment_urls: [url] });
    const entry = (
      (refreshed.json?.refreshed_urls ?? []) as { original: string; refreshed: string }[]
    )[0];
    expect(entry?.original).toBe(url);
    expect((await fetch(entry?.refreshed ?? '')).status).toBe(200);
  });

  it('refuses the bot what its permissions do not allow (50001, 50013) and unknown channels (10003)', async () => {
    const noFiles = standIn.addChannel(['ATTACH_FILES']);
    const png = [{ name: 'a.png', data: Buffer.from('x') }];
    expect((await call('POST', `/channels/${noFiles}/messages`, { content: 'hi' })).status).toBe(
      200,
    );
    const withFile = await call('POST', `/channels/${noFiles}/messages`, { content: 'hi' }, png);
    expect([withFile.status, withFile.json?.code]).toEqual([403, 50013]);
    const hidden = standIn.addChannel(['VIEW_CHANNEL']);
    const unseen = await call('POST', `/channels/${hidden}/messages`, { content: 'hi' });
    expect([unseen.status, unseen.json?.code]).toEqual([403, 50001]);
    const unknown = await call('POST', `/channels/${snowflake()}/messages`, { content: 'hi' });
    expect([unknown.status, unknown.json?.code]).toEqual([404, 10003]);
  });

  it('wants reaction emoji URL-encoded, custom ones as name:id (10014), and ADD_REACTIONS', async () => {
    const custom = standIn.addCustomEmoji('hourglass');
    const message = standIn.postMessage([]);
    const route = (emoji: string) =>
      `/channels/${standIn.channelId}/messages/${message.id}/reactions/${emoji}/@me`;
    const raw = await call('PUT', route(encodeURIComponent(custom)));
    expect([raw.status, raw.json?.code]).toEqual([400, 10014]);
    const nameId = custom.slice(2, -1);
    expect((await call('PUT', route(encodeURIComponent(nameId)))).status).toBe(204);
    expect((await call('PUT', route(encodeURIComponent('⏳')))).status).toBe(204);
    const noReactions = standIn.addChannel(['ADD_REACTIONS']);
    const elsewhere = standIn.postMessage([], { channelId: noReactions });
    const refused = await call(
      'PUT',
      `/channels/${noReactions}/messages/${elsewhere.id}/reactions/${encodeURIComponent('⏳')}/@me`,
    );
    expect([refused.status, refused.json?.code]).toEqual([403, 50013]);
  });

  it('limits bot uploads by Boost Tier and to 25 MiB per request (40005), 10 MiB in DMs', async () => {
    const eleven = [{ name: 'big.png', data: Buffer.alloc(11 * MIB) }];
    const post = (channel: string, files: { name: string; data: Buffer }[]) =>
      call('POST', `/channels/${channel}/messages`, { content: 'x' }, files);
    const tier0 = await post(standIn.channelId, eleven);
    expect([tier0.status, tier0.json?.code]).toEqual([413, 40005]);
    standIn.setPremiumTier(2);
    try {
      expect((await post(standIn.channelId, eleven)).status).toBe(200);
      const huge = await post(standIn.channelId, [
        { name: 'huge.png', data: Buffer.alloc(26 * MIB) },
      ]);
      expect([huge.status, huge.json?.code]).toEqual([413, 40005]);
    } finally {
      standIn.setPremiumTier(0);
    }
    const dm = await call('POST', '/users/@me/channels', { recipient_id: snowflake() });
    expect(dm.json?.type).toBe(1);
    expect(dm.json?.guild_id).toBeUndefined();
    const inDm = await post(String(dm.json?.id), eleven);
    expect([inDm.status, inDm.json?.code]).toEqual([413, 40005]);
  });

  it('carries a forward’s files in message_snapshots (message_reference.type 1), freshly signed', async () => {
    const original = standIn.postMessage([
      standIn.addAttachment('a.png', Buffer.from('bytes'), 'image/png'),
    ]);
    const forward = standIn.postForward(original);
    const fetched = await call('GET', `/channels/${standIn.channelId}/messages/${forward.id}`);
    expect(fetched.json?.attachments).toEqual([]);
    expect(fetched.json?.message_reference).toMatchObject({ type: 1, message_id: original.id });
    const snapshots = fetched.json?.message_snapshots as {
      message: { attachments: { url: string }[] };
    }[];
    const url = snapshots[0]?.message.attachments[0]?.url ?? '';
    expect((await fetch(url)).status).toBe(200);
  });
});
