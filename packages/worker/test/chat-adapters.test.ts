import { describe, expect, it } from 'vitest';
import { chatDeliveryFromEnv } from '../src/index.js';

describe('chat delivery from the environment', () => {
  it('adds Discord and Slack adapters only when their tokens are set', () => {
    expect(chatDeliveryFromEnv({}).kinds).toEqual(['api']);
    const both = chatDeliveryFromEnv({
      DISCORD_TOKEN: 'discord-token',
      SLACK_BOT_TOKEN: 'xoxb-slack',
      PUBLIC_BASE_URL: 'https://bg.example.com',
    });
    expect(both.kinds).toEqual(['api', 'discord', 'slack']);
    expect(both.slackBotToken).toBe('xoxb-slack');
    expect(Object.keys(both.adapters ?? {})).toEqual(['discord', 'slack']);
  });

  it('names a malformed variable', () => {
    expect(() => chatDeliveryFromEnv({ SLACK_BOT_TOKEN: 'not-a-bot-token' })).toThrow(
      /SLACK_BOT_TOKEN/,
    );
    expect(() => chatDeliveryFromEnv({ DISCORD_TOKEN: 'x', PUBLIC_BASE_URL: 'nope' })).toThrow(
      /PUBLIC_BASE_URL/,
    );
  });
});
