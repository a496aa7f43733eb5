import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalStorage } from '@bgremover/jobs';
import { describe, expect, it } from 'vitest';
import { InputRefusedError } from '../src/errors.js';
import { fetchInput } from '../src/fetch-input.js';
import { loadSlackDeliveryConfig } from '../src/reply/slack-adapter.js';

describe('Slack delivery settings', () => {
  it('is off without a bot token, and reads the rest with defaults', () => {
    expect(loadSlackDeliveryConfig({})).toBeUndefined();
    expect(loadSlackDeliveryConfig({ SLACK_BOT_TOKEN: 'xoxb-1' })).toEqual({
      token: 'xoxb-1',
      maxUploadBytes: 100 * 1024 * 1024,
    });
    expect(
      loadSlackDeliveryConfig({
        SLACK_BOT_TOKEN: 'xoxb-1',
        PUBLIC_BASE_URL: 'https://bg.example.com',
        SLACK_MAX_UPLOAD_BYTES: '1000',
      }),
    ).toEqual({ token: 'xoxb-1', maxUploadBytes: 1000, publicBaseUrl: 'https://bg.example.com' });
  });

  it('names a malformed variable', () => {
    expect(() => loadSlackDeliveryConfig({ SLACK_BOT_TOKEN: 'xoxp-1' })).toThrow(
      /SLACK_BOT_TOKEN: must be a bot token/,
    );
    expect(() =>
      loadSlackDeliveryConfig({ SLACK_BOT_TOKEN: 'xoxb-1', PUBLIC_BASE_URL: 'not a url' }),
    ).toThrow(/PUBLIC_BASE_URL/);
  });
});

describe('fetching a Slack file', () => {
  it('is refused with a clear message when the worker has no bot token', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bgremover-slack-fetch-'));
    try {
      const attempt = fetchInput(
        {
          kind: 'url',
          url: 'https://files.slack.com/files-pri/T1-F1/photo.png',
          filename: 'photo.png',
          auth: 'slack-bot',
        },
        {
          storage: new LocalStorage(dir),
          dir,
          attachmentHosts: ['files.slack.com'],
          maxBytes: 1000,
          timeoutMs: 1000,
        },
      );
      await expect(attempt).rejects.toThrow(InputRefusedError);
      await expect(attempt).rejects.toThrow(/no Slack bot token \(SLACK_BOT_TOKEN\)/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
