import { extname } from 'node:path';
import { formatBytes, isAllowedHost } from '@bgremover/core/contract';

/** The parts of a Discord attachment the bot looks at. */
export interface AttachmentInfo {
  id: string;
  name: string;
  url: string;
  size: number;
  contentType: string | null;
}

export interface AttachmentPolicy {
  /** Hosts (and their subdomains) attachment URLs may point at. */
  attachmentHosts: readonly string[];
  maxInputBytes: number;
}

export type MediaKind = 'image' | 'video';

export type DeclaredCheck = { ok: true; kind: MediaKind } | { ok: false; problem: string };

const imageExtensions = ['.png', '.jpg', '.jpeg', '.webp', '.gif', '.tif', '.tiff', '.avif'];
const videoExtensions = ['.mp4', '.mov', '.webm', '.mkv', '.avi', '.m4v'];

/**
 * What an attachment says it is (content type, or its extension when Discord gave none), or
 * undefined when it claims to be neither a picture nor a video.
 */
export function declaredKind(attachment: AttachmentInfo): MediaKind | undefined {
  const family = attachment.contentType?.split('/')[0]?.toLowerCase();
  if (family === 'image' || family === 'video') return family;
  if (attachment.contentType) return undefined;
  const extension = extname(attachment.name).toLowerCase();
  if (imageExtensions.includes(extension)) return 'image';
  if (videoExtensions.includes(extension)) return 'video';
  return undefined;
}

/**
 * The checks that need no download: the URL is on a Discord CDN host, the size is within the
 * limit, and the attachment says it is a picture or a video. Each refusal names the file and
 * the problem.
 */
export function checkDeclared(attachment: AttachmentInfo, policy: AttachmentPolicy): DeclaredCheck {
  let host: string;
  try {
    host = new URL(attachment.url).hostname.toLowerCase();
  } catch {
    return { ok: false, problem: `${attachment.name} has no usable download address` };
  }
  if (!isAllowedHost(host, policy.attachmentHosts)) {
    return {
      ok: false,
      problem: `${attachment.name} is not on Discord's file servers (${host}); only attachments uploaded to Discord are processed`,
    };
  }
  if (attachment.size > policy.maxInputBytes) {
    return {
      ok: false,
      problem: `${attachment.name} is ${formatBytes(attachment.size)}; the limit is ${formatBytes(policy.maxInputBytes)}`,
    };
  }
  const kind = declaredKind(attachment);
  if (!kind) {
    const type = attachment.contentType ? ` (${attachment.contentType})` : '';
    return {
      ok: false,
      problem: `${attachment.name} is not a picture or a video${type}; send a PNG, JPEG, WebP, GIF, MP4, MOV or WebM`,
    };
  }
  return { ok: true, kind };
}
