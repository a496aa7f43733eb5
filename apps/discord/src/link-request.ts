import { createHash } from 'node:crypto';
import { isAllowedHost } from '@bgremover/core/contract';
import { displayFileName } from '@bgremover/jobs';
import type { AttachmentInfo } from './attachments.js';

export type LinkCheck = { ok: true; attachment: AttachmentInfo } | { ok: false; problem: string };

/**
 * A `/removebg url:` link as an attachment the checks understand. Refused at once: anything but
 * http(s), and hosts the workers will not fetch from (their ATTACHMENT_HOSTS, which operators
 * widen to accept links from other sites). The workers still refuse private addresses and
 * redirects to other hosts when they fetch it.
 */
export function linkRequest(text: string, allowedHosts: readonly string[]): LinkCheck {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    return { ok: false, problem: `url: "${text.slice(0, 100)}" is not a link` };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return { ok: false, problem: 'url: only http and https links can be fetched' };
  }
  const host = url.hostname.toLowerCase();
  if (!isAllowedHost(host, allowedHosts)) {
    return {
      ok: false,
      problem: `url: this server only fetches links from ${allowedHosts.join(', ')}, not ${host} (the operator can allow more hosts with ATTACHMENT_HOSTS); upload the file as an attachment instead`,
    };
  }
  const last = safeDecode(url.pathname.split('/').pop() ?? '');
  return {
    ok: true,
    attachment: {
      id: `link-${createHash('sha256').update(url.href).digest('hex').slice(0, 16)}`,
      name: displayFileName(last || host),
      url: url.href,
      size: 0,
      contentType: null,
    },
  };
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
