import { describe, expect, it } from 'vitest';
import { checkDeclared } from '../src/attachments.js';
import { precheckFile } from '../src/prepare-file.js';
import { isTriggerEmoji } from '../src/reaction-handler.js';
import { parseRegistrationScope } from '../src/register-commands.js';
import { buildJobParams } from '../src/request-params.js';

describe('buildJobParams', () => {
  it('maps the options onto the seed parameters for a picture', () => {
    expect(buildJobParams('image', { model: 'u2netp', bgColor: '#0f0' }, 'webm')).toEqual({
      ok: true,
      params: {
        convert_to: 'image-backgroundremover',
        model: 'u2netp',
        bg_type: 'color',
        bg_color_value: '#0f0',
      },
    });
  });

  it('names the option a person typed when core refuses a value', () => {
    const outcome = buildJobParams('video', { bgColor: 'blue-ish' }, 'webm');
    expect(outcome.ok).toBe(false);
    expect(!outcome.ok && outcome.problem).toMatch(/^bg_color: must be a hex colour/);
  });

  it('refuses options that do not fit the file', () => {
    expect(buildJobParams('image', { format: 'gif' }, 'webm')).toMatchObject({
      ok: false,
      problem: 'format: applies to videos only, and this file is a picture',
    });
    expect(buildJobParams('video', { format: 'gif_with_bg' }, 'webm')).toMatchObject({
      ok: false,
      problem: 'format gif_with_bg: needs a background, add it as bg_image',
    });
    expect(buildJobParams('video', { hasBackground: true }, 'webm')).toMatchObject({ ok: false });
  });

  it('uses the default video format, and mattekey for only_mask', () => {
    expect(buildJobParams('video', {}, 'webm')).toMatchObject({
      ok: true,
      params: { video_format: 'webm' },
    });
    expect(buildJobParams('video', { onlyMask: true }, 'webm')).toMatchObject({
      ok: true,
      params: { video_format: 'mattekey' },
    });
  });
});

describe('checkDeclared', () => {
  const policy = { attachmentHosts: ['cdn.discordapp.com'], maxInputBytes: 1000 };
  const attachment = {
    id: '1',
    name: 'cat.png',
    url: 'https://cdn.discordapp.com/attachments/1/2/cat.png',
    size: 500,
    contentType: 'image/png',
  };

  it('accepts a picture on the CDN within the size limit', () => {
    expect(checkDeclared(attachment, policy)).toEqual({ ok: true, kind: 'image' });
  });

  it('refuses other hosts, large files and other types, naming the file', () => {
    expect(
      checkDeclared({ ...attachment, url: 'https://example.com/cat.png' }, policy),
    ).toMatchObject({ ok: false, problem: expect.stringContaining('example.com') });
    expect(checkDeclared({ ...attachment, size: 5000 }, policy)).toMatchObject({
      ok: false,
      problem: expect.stringContaining('cat.png is'),
    });
    expect(checkDeclared({ ...attachment, contentType: 'application/pdf' }, policy)).toMatchObject({
      ok: false,
      problem: expect.stringContaining('not a picture or a video (application/pdf)'),
    });
  });
});

describe('isTriggerEmoji', () => {
  it('matches with or without the emoji variation selector, and custom emoji by id', () => {
    expect(isTriggerEmoji({ name: '✂️', id: null }, '✂️')).toBe(true);
    expect(isTriggerEmoji({ name: '✂', id: null }, '✂️')).toBe(true);
    expect(isTriggerEmoji({ name: '👍', id: null }, '✂️')).toBe(false);
    expect(isTriggerEmoji({ name: 'snip', id: '42' }, '<:snip:42>')).toBe(true);
  });
});

describe('parseRegistrationScope', () => {
  it('reads --guild, --global and the development guild, and says what is missing', () => {
    expect(parseRegistrationScope(['--guild', '123'], undefined)).toEqual({
      kind: 'guild',
      guildId: '123',
    });
    expect(parseRegistrationScope(['--global'], '9')).toEqual({ kind: 'global' });
    expect(parseRegistrationScope([], '9')).toEqual({ kind: 'guild', guildId: '9' });
    expect(() => parseRegistrationScope([], undefined)).toThrow(/--guild <id>/);
  });
});

describe('precheckFile', () => {
  const settings = {
    attachmentHosts: ['cdn.discordapp.com'],
    maxInputBytes: 1_000_000,
    maxVideoSeconds: 60,
    defaultVideoFormat: 'webm' as const,
  };
  const gif = {
    id: '1',
    name: 'dance.gif',
    url: 'https://cdn.discordapp.com/attachments/1/2/dance.gif',
    size: 500,
    contentType: 'image/gif',
  };

  it('lets a GIF carry video options until its bytes say whether it is animated', () => {
    expect(precheckFile({ attachment: gif, chosen: { format: 'gif' } }, settings)).toEqual({
      ok: true,
      kind: 'video',
    });
    expect(
      precheckFile(
        {
          attachment: { ...gif, name: 'cat.png', contentType: 'image/png' },
          chosen: { format: 'gif' },
        },
        settings,
      ),
    ).toMatchObject({ ok: false, problem: expect.stringContaining('format: applies to videos') });
  });
});
