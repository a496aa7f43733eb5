import { readFile } from 'node:fs/promises';
import { DEFAULT_SCOPES } from '@bgremover/test-kit/slack/stand-in';
import { describe, expect, it } from 'vitest';
import { fileIdInPath, parseCommandText } from '../src/command-text.js';
import { loadSlackConfig } from '../src/config.js';
import { jobParams } from '../src/removal-options.js';
import { checkSlackFile, type SlackFile } from '../src/slack-files.js';

const rules = { fileHosts: ['files.slack.com'], maxInputBytes: 1024 * 1024 };
const png: SlackFile = {
  id: 'F0PHOTO1',
  name: 'photo.png',
  mimetype: 'image/png',
  size: 1000,
  url_private_download: 'https://files.slack.com/files-pri/T1-F0PHOTO1/download/photo.png',
};

describe('/removebg text', () => {
  it('reads a permalink or a download link, with options', () => {
    expect(
      parseCommandText(
        '<https://acme.slack.com/files/U1/F0ABCDEF12/photo.png|photo.png> model=u2netp mask color=00ff00',
      ),
    ).toEqual({
      kind: 'file',
      fileId: 'F0ABCDEF12',
      url: 'https://acme.slack.com/files/U1/F0ABCDEF12/photo.png',
      options: { model: 'u2netp', onlyMask: true, backgroundColor: '#00ff00' },
    });
    expect(fileIdInPath('/files-pri/T0TEAM-F0ABCDEF12/download/photo.png')).toBe('F0ABCDEF12');
    expect(parseCommandText('')).toEqual({ kind: 'modal' });
    expect(parseCommandText(' HELP ')).toEqual({ kind: 'help' });
  });

  it('names what is wrong with a bad line', () => {
    expect(() => parseCommandText('https://files.slack.com/x model=u3net')).toThrow(
      /Unknown model "u3net"; choose one of u2net, /,
    );
    expect(() => parseCommandText('https://files.slack.com/x format=mp3')).toThrow(
      /Unknown video format "mp3"; choose one of mov, webm, gif, mattekey, mp4_with_color/,
    );
    expect(() => parseCommandText('https://files.slack.com/x color=blue')).toThrow(
      /"blue" is not a colour/,
    );
    expect(() => parseCommandText('https://files.slack.com/x speed=fast')).toThrow(
      /Unknown option "speed=fast"/,
    );
    expect(() => parseCommandText('ftp://files.slack.com/x')).toThrow(/not a web link/);
  });
});

describe('file checks', () => {
  it('accepts a picture or video on an allowed host within the size limit', () => {
    expect(checkSlackFile(png, rules)).toMatchObject({ ok: true, mediaKind: 'image' });
    const clip = { ...png, name: 'clip.mov', mimetype: 'video/quicktime' };
    expect(checkSlackFile(clip, rules)).toMatchObject({ ok: true, mediaKind: 'video' });
  });

  it('refuses with a reason naming the file', () => {
    const reason = (file: Partial<SlackFile>) => {
      const check = checkSlackFile({ ...png, ...file }, rules);
      return check.ok ? 'accepted' : check.reason;
    };
    expect(reason({ name: 'logo.svg', mimetype: 'image/svg+xml' })).toMatch(
      /^logo\.svg is not a picture or a video \(it is image\/svg\+xml\)/,
    );
    expect(reason({ size: 5 * 1024 * 1024 })).toBe(
      'photo.png is too large (5.0 MB; the limit is 1.0 MB)',
    );
    expect(reason({ url_private_download: 'https://evil.example/photo.png' })).toBe(
      'photo.png is stored on evil.example, and I only fetch files from files.slack.com',
    );
    expect(reason({ mode: 'external' })).toMatch(/is a link to another service/);
  });
});

describe('options to job parameters', () => {
  it('maps the Slack options onto core parameters, validated', () => {
    expect(jobParams({ onlyMask: true, backgroundColor: '#123456' }, 'image')).toMatchObject({
      convert_to: 'image-backgroundremover',
      only_mask: true,
      bg_type: 'color',
      bg_color_value: '#123456',
    });
    expect(jobParams({ onlyMask: true, videoFormat: 'webm' }, 'video')).toMatchObject({
      convert_to: 'video-backgroundremover',
      video_format: 'mattekey',
    });
    expect(jobParams({ backgroundColor: '#123456' }, 'video')).toMatchObject({
      video_format: 'mov',
      video_bg_color_enabled: true,
      video_bg_color: '#123456',
    });
  });
});

describe('configuration', () => {
  const base = { SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's' };

  it('reads HTTP mode and Socket Mode', () => {
    expect(loadSlackConfig(base).mode).toEqual({
      kind: 'http',
      signingSecret: 's',
      host: '0.0.0.0',
      port: 3000,
    });
    const socket = loadSlackConfig({
      SLACK_BOT_TOKEN: 'xoxb-1',
      SLACK_SOCKET_MODE: 'true',
      SLACK_APP_TOKEN: 'xapp-1',
      SLACK_REACTION_EMOJI: ':knife:',
    });
    expect(socket.mode).toEqual({ kind: 'socket', appToken: 'xapp-1' });
    expect(socket.reactionEmoji).toBe('knife');
  });

  it('names the missing or malformed variable', () => {
    expect(() => loadSlackConfig({ SLACK_BOT_TOKEN: 'xoxb-1' })).toThrow(
      /SLACK_SIGNING_SECRET is required/,
    );
    expect(() => loadSlackConfig({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SOCKET_MODE: 'true' })).toThrow(
      /SLACK_APP_TOKEN is required/,
    );
    expect(() => loadSlackConfig({ ...base, SLACK_BOT_TOKEN: 'xoxp-user' })).toThrow(
      /SLACK_BOT_TOKEN: must be a bot token/,
    );
    expect(() => loadSlackConfig({ ...base, SLACK_PORT: 'eighty' })).toThrow(/SLACK_PORT/);
  });
});

describe('the manifest', () => {
  it('asks for every scope the stand-in grants, the Home tab and its event', async () => {
    const manifest = await readFile(new URL('../manifest.yaml', import.meta.url), 'utf8');
    const botScopes = manifest.slice(manifest.indexOf('    bot:'), manifest.indexOf('settings:'));
    const scopes = [...botScopes.matchAll(/^ {6}- ([a-z:.]+)/gm)].map((match) => match[1]);
    expect([...scopes].sort()).toEqual([...DEFAULT_SCOPES].sort());
    expect(manifest).toMatch(/home_tab_enabled: true/);
    expect(manifest).toMatch(/messages_tab_enabled: true/);
    expect(manifest).toMatch(/- app_home_opened/);
  });
});
