import { DiscordAPIError } from 'discord.js';
import { describe, expect, it } from 'vitest';
import { isThreadAlreadyCreated, permanentReason } from '../src/delivery/discord-errors.js';
import { reactionRouteEmoji } from '../src/delivery/reaction-emoji.js';
import { botMessageUploadLimit, MIB, resultUploadLimit } from '../src/delivery/upload-limits.js';
import { linkRequest } from '../src/link-request.js';
import { expiresBefore, signedUrlExpiry } from '../src/signed-urls.js';

/** An error as discord.js's REST client throws it for a JSON error answer. */
function apiError(code: number, status: number, message: string): DiscordAPIError {
  return new DiscordAPIError(
    { code, message },
    code,
    status,
    'POST',
    'https://discord.com/api/v10/channels/1/messages',
    { body: undefined, files: undefined },
  );
}

describe('Discord errors that retrying cannot fix', () => {
  it('classifies missing access and permissions, unknown channels, locked and archived threads', () => {
    expect(permanentReason(apiError(50013, 403, 'Missing Permissions'))).toMatch(/permission/);
    expect(permanentReason(apiError(50001, 403, 'Missing Access'))).toMatch(/cannot see/);
    expect(permanentReason(apiError(10003, 404, 'Unknown Channel'))).toMatch(/no longer exists/);
    expect(permanentReason(apiError(160005, 403, 'Thread is locked'))).toMatch(/locked/);
    expect(permanentReason(apiError(50083, 400, 'Thread is archived'))).toMatch(/archived/);
  });

  it('leaves server errors, rate limits and plain network errors to the retries', () => {
    expect(permanentReason(apiError(0, 502, 'Bad Gateway'))).toBeUndefined();
    expect(permanentReason(apiError(40005, 413, 'Request entity too large'))).toBeUndefined();
    expect(permanentReason(new Error('ECONNRESET'))).toBeUndefined();
  });

  it('knows the answer to a second thread on one message', () => {
    expect(isThreadAlreadyCreated(apiError(160004, 400, 'A thread has already been created'))).toBe(
      true,
    );
  });
});

describe('reaction emoji in routes', () => {
  it('sends a custom emoji as name:id, URL-encoded, and a unicode one URL-encoded', () => {
    expect(reactionRouteEmoji('<:hourglass:123456789012345678>')).toBe(
      'hourglass%3A123456789012345678',
    );
    expect(reactionRouteEmoji('<a:spin:42>')).toBe('spin%3A42');
    expect(reactionRouteEmoji('⏳')).toBe(encodeURIComponent('⏳'));
  });
});

describe('upload limits', () => {
  it('bot messages follow the Boost Tier, capped by the 25 MiB request, not the interaction', () => {
    expect(botMessageUploadLimit(0)).toBe(10 * MIB);
    expect(botMessageUploadLimit(1)).toBe(10 * MIB);
    expect(botMessageUploadLimit(2)).toBe(25 * MIB);
    expect(botMessageUploadLimit(3)).toBe(25 * MIB);
    expect(botMessageUploadLimit(undefined)).toBe(10 * MIB);
    // A Nitro user's 500 MiB holds for the follow-up only; once the token is gone, the server's.
    expect(resultUploadLimit({ attachmentSizeLimit: 500 * MIB }, undefined)).toBe(500 * MIB);
    expect(resultUploadLimit(undefined, 0)).toBe(10 * MIB);
    expect(resultUploadLimit(undefined, 3)).toBe(25 * MIB);
  });
});

describe('signed CDN links', () => {
  it('reads ex as hex unix seconds', () => {
    const url =
      'https://cdn.discordapp.com/attachments/1/2/my_image.png?ex=65d903de&is=65c68ede&hm=2481f3&';
    expect(signedUrlExpiry(url)).toBe(0x65d903de * 1000);
    expect(expiresBefore(url, 0x65d903de * 1000 + 1)).toBe(true);
    expect(expiresBefore(url, 0x65d903de * 1000 - 1)).toBe(false);
    expect(signedUrlExpiry('https://example.com/a.png')).toBeUndefined();
  });
});

describe('/removebg url:', () => {
  it('takes links from the hosts the workers fetch from and refuses others, naming ATTACHMENT_HOSTS', () => {
    const ok = linkRequest('https://media.example.org/pics/cat%20one.jpg', ['example.org']);
    expect(ok).toMatchObject({ ok: true, attachment: { name: 'cat one.jpg', size: 0 } });
    const refused = linkRequest('https://evil.test/x.png', ['cdn.discordapp.com']);
    expect(refused.ok).toBe(false);
    expect(!refused.ok && refused.problem).toMatch(/evil\.test.*ATTACHMENT_HOSTS/);
    expect(linkRequest('file:///etc/passwd', ['example.org']).ok).toBe(false);
    expect(linkRequest('not a link', ['example.org']).ok).toBe(false);
  });
});
