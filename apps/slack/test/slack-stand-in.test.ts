/**
 * The stand-in refuses what Slack refuses; these pin its rules (each cites Slack's page in
 * packages/test-kit/src/slack/slack-stand-in.ts), so the app's tests cannot pass on a forgiving Slack.
 */

import {
  BOT_USER_ID,
  type SlackStandIn,
  startSlackStandIn,
} from '@bgremover/test-kit/slack/stand-in';
import { WebClient } from '@slack/web-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const TOKEN = 'xoxb-stand-in';
let standIn: SlackStandIn;
let client: WebClient;

beforeAll(async () => {
  standIn = await startSlackStandIn(TOKEN);
  client = new WebClient(TOKEN, { slackApiUrl: standIn.apiUrl, retryConfig: { retries: 0 } });
  standIn.addChannel('C0MEMBER', 'public', [BOT_USER_ID, 'U1']);
  standIn.addChannel('C0OUTSIDE', 'public', ['U1']);
  standIn.addChannel('G0PRIVATE', 'private', ['U1']);
  standIn.addChannel('D0U1', 'im', ['U1']);
});

afterAll(async () => {
  await standIn?.close();
});

const errorOf = (call: Promise<unknown>) =>
  call.then(
    () => 'ok',
    (error: { data?: { error?: string } }) => error.data?.error ?? 'thrown',
  );

describe('the Slack stand-in', () => {
  it('refuses posts, uploads and reactions where the bot is not a member', async () => {
    expect(await errorOf(client.chat.postMessage({ channel: 'C0OUTSIDE', text: 'hi' }))).toBe(
      'not_in_channel',
    );
    expect(
      await errorOf(client.reactions.add({ channel: 'C0OUTSIDE', timestamp: '1.1', name: 'x' })),
    ).toBe('not_in_channel');
    expect(
      await errorOf(
        client.filesUploadV2({
          channel_id: 'C0OUTSIDE',
          file: Buffer.from('x'),
          filename: 'x.txt',
        }),
      ),
    ).toBe('not_in_channel');
    expect(await errorOf(client.chat.postMessage({ channel: 'G0PRIVATE', text: 'hi' }))).toBe(
      'channel_not_found',
    );
    expect(await errorOf(client.chat.postMessage({ channel: 'C0MEMBER', text: 'hi' }))).toBe('ok');
    // The app's DM always has the bot in it.
    expect(await errorOf(client.chat.postMessage({ channel: 'D0U1', text: 'hi' }))).toBe('ok');
  });

  it('with chat:write.public, posts (but not uploads) reach public channels the bot is not in', async () => {
    const open = await startSlackStandIn(TOKEN, { scopes: ['chat:write', 'chat:write.public'] });
    try {
      const other = new WebClient(TOKEN, { slackApiUrl: open.apiUrl, retryConfig: { retries: 0 } });
      open.addChannel('C0PUB', 'public', ['U1']);
      expect(await errorOf(other.chat.postMessage({ channel: 'C0PUB', text: 'hi' }))).toBe('ok');
      expect(
        await errorOf(
          other.filesUploadV2({ channel_id: 'C0PUB', file: Buffer.from('x'), filename: 'x.txt' }),
        ),
      ).toBe('not_in_channel');
      expect(await errorOf(other.conversations.join({ channel: 'C0PUB' }))).toBe('missing_scope');
    } finally {
      await open.close();
    }
  });

  it('joins public channels only', async () => {
    expect(await errorOf(client.conversations.join({ channel: 'G0PRIVATE' }))).toBe(
      'channel_not_found',
    );
    standIn.addChannel('G0BOTSEES', 'private', [BOT_USER_ID]);
    expect(await errorOf(client.conversations.join({ channel: 'G0BOTSEES' }))).toBe(
      'method_not_supported_for_channel_type',
    );
    expect(await errorOf(client.conversations.join({ channel: 'D0U1' }))).toBe(
      'method_not_supported_for_channel_type',
    );
    expect(await errorOf(client.conversations.join({ channel: 'C0OUTSIDE' }))).toBe('ok');
    const info = await client.conversations.info({ channel: 'C0OUTSIDE' });
    expect(info.channel?.is_member).toBe(true);
  });

  it('does not show an ephemeral posted into a thread with no replies', async () => {
    const parent = await client.chat.postMessage({ channel: 'C0MEMBER', text: 'parent' });
    const ts = String(parent.ts);
    await client.chat.postEphemeral({
      channel: 'C0MEMBER',
      user: 'U1',
      text: 'lost',
      thread_ts: ts,
    });
    await client.chat.postMessage({ channel: 'C0MEMBER', text: 'reply', thread_ts: ts });
    await client.chat.postEphemeral({
      channel: 'C0MEMBER',
      user: 'U1',
      text: 'seen',
      thread_ts: ts,
    });
    expect(standIn.noticesTo('U1').map((notice) => notice.text)).toEqual(['seen']);
    expect(standIn.notices.find((notice) => notice.text === 'lost')?.shown).toBe(false);
    expect(
      await errorOf(client.chat.postEphemeral({ channel: 'C0MEMBER', user: 'U9', text: 'x' })),
    ).toBe('user_not_in_channel');
  });

  it('opens a view once per trigger_id, within 3 seconds of the interaction', async () => {
    const view = {
      type: 'modal' as const,
      title: { type: 'plain_text' as const, text: 'Options' },
      blocks: [],
    };
    const open = (trigger_id: string) => errorOf(client.views.open({ trigger_id, view }));
    const trigger = standIn.triggerId();
    expect(await open(trigger)).toBe('ok');
    expect(await open(trigger)).toBe('exchanged_trigger_id');
    expect(await open('12345.98765.abcd2358fdea')).toBe('invalid_trigger_id');
    const late = standIn.triggerId();
    standIn.advanceClock(3100);
    expect(await open(late)).toBe('expired_trigger_id');
  });

  it('takes a response_url five times within 30 minutes', async () => {
    const post = (url: string) =>
      fetch(url, { method: 'POST', body: JSON.stringify({ text: 'hello' }) }).then((r) => r.status);
    const url = standIn.responseUrl('U1', 'C0MEMBER');
    const statuses: number[] = [];
    for (let use = 0; use < 6; use++) statuses.push(await post(url));
    expect(statuses).toEqual([200, 200, 200, 200, 200, 404]);
    const late = standIn.responseUrl('U1', 'C0MEMBER');
    standIn.advanceClock(30 * 60_000 + 1000);
    expect(await post(late)).toBe(404);
  });

  it("answers a file the bot may not read with file_not_found and, for its bytes, Slack's sign-in page", async () => {
    const hidden = standIn.addFile('hidden.png', 'image/png', Buffer.from('png'), {
      sharedIn: ['G0PRIVATE'],
    });
    expect(await errorOf(client.files.info({ file: hidden.id }))).toBe('file_not_found');
    const answer = await fetch(hidden.url_private_download, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect([answer.status, answer.headers.get('content-type')]).toEqual([
      200,
      'text/html; charset=utf-8',
    ]);
    const shared = standIn.addFile('shared.png', 'image/png', Buffer.from('png'), {
      sharedIn: ['C0MEMBER', 'D0U1'],
    });
    const info = await client.files.info({ file: shared.id });
    expect(info.file).toMatchObject({ channels: ['C0MEMBER'], groups: [], ims: ['D0U1'] });
    const anonymous = await fetch(shared.url_private_download);
    expect(anonymous.headers.get('content-type')).toMatch(/^text\/html/);
  });

  it('refuses files over 10 MB in a form file input', () => {
    const big = Buffer.alloc(10 * 1024 * 1024 + 1);
    expect(() => standIn.uploadThroughFileInput('big.mp4', 'video/mp4', big, 'U1')).toThrow(
      /over 10 MB/,
    );
  });
});
