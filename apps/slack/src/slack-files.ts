import { extname } from 'node:path';
import { formatBytes, isAllowedHost } from '@bgremover/core/contract';
import { displayFileName } from '@bgremover/jobs';
import { z } from 'zod';

/** The fields of a Slack file object this app reads (messages, files.info, modal file inputs). */
export interface SlackFile {
  id: string;
  name?: string | undefined;
  title?: string | undefined;
  mimetype?: string | undefined;
  filetype?: string | undefined;
  size?: number | undefined;
  mode?: string | undefined;
  url_private?: string | undefined;
  url_private_download?: string | undefined;
  /** `check_file_info`: Slack sent a stub; files.info has the rest. */
  file_access?: string | undefined;
  /** Who uploaded it. */
  user?: string | undefined;
  /** Where it is shared, as files.info tells the bot: public channels, private ones, DMs. */
  channels?: string[] | undefined;
  groups?: string[] | undefined;
  ims?: string[] | undefined;
}

const slackFileSchema = z.object({
  id: z.string().min(1),
  name: z.string().optional(),
  title: z.string().optional(),
  mimetype: z.string().optional(),
  filetype: z.string().optional(),
  size: z.number().optional(),
  mode: z.string().optional(),
  url_private: z.string().optional(),
  url_private_download: z.string().optional(),
  file_access: z.string().optional(),
  user: z.string().optional(),
  channels: z.array(z.string()).optional(),
  groups: z.array(z.string()).optional(),
  ims: z.array(z.string()).optional(),
});

/** The file objects of a message (or files.info answer), typed; entries without an id are dropped. */
export function parseSlackFiles(files: unknown): SlackFile[] {
  if (!Array.isArray(files)) return [];
  return files.flatMap((file) => {
    const parsed = slackFileSchema.safeParse(file);
    return parsed.success ? [parsed.data] : [];
  });
}

/** What this app may do with a file: start a job on it, or refuse it with a reason. */
export type FileCheck =
  | { ok: true; id: string; name: string; url: string; mediaKind: 'image' | 'video' }
  | { ok: false; name: string; reason: string };

export interface FileRules {
  /** Hosts (and their subdomains) a file's download URL may point at. */
  fileHosts: readonly string[];
  maxInputBytes: number;
}

const imageTypes: Record<string, string> = {
  'image/jpeg': 'jpg',
  'image/jpg': 'jpg',
  'image/png': 'png',
  'image/webp': 'webp',
  'image/gif': 'gif',
  'image/tiff': 'tiff',
  'image/avif': 'avif',
};
const videoTypes: Record<string, string> = {
  'video/mp4': 'mp4',
  'video/quicktime': 'mov',
  'video/webm': 'webm',
  'video/x-matroska': 'mkv',
  'video/x-msvideo': 'avi',
  'video/avi': 'avi',
  'video/x-m4v': 'm4v',
};
const imageExtensions = new Set(['jpg', 'jpeg', 'png', 'webp', 'gif', 'tif', 'tiff', 'avif']);
const videoExtensions = new Set(['mp4', 'mov', 'webm', 'mkv', 'avi', 'm4v']);

/** What people are told this app accepts. */
export const ACCEPTED_MEDIA =
  'JPEG, PNG, WebP, GIF, TIFF or AVIF pictures and MP4, MOV, WebM, MKV or AVI videos';

/** `image`, `video`, or undefined, from a MIME type, Slack's filetype or the file name's extension. */
export function mediaKindOf(
  mimetype: string | undefined,
  filetypeOrExtension: string | undefined,
): 'image' | 'video' | undefined {
  const mime = mimetype?.toLowerCase().split(';')[0]?.trim();
  if (mime && mime in imageTypes) return 'image';
  if (mime && mime in videoTypes) return 'video';
  const extension = filetypeOrExtension?.toLowerCase().replace(/^\./, '');
  if (!mime || mime === 'application/octet-stream' || mime === 'binary') {
    if (extension && imageExtensions.has(extension)) return 'image';
    if (extension && videoExtensions.has(extension)) return 'video';
  }
  return undefined;
}

/**
 * Decides up front whether a Slack file can become a job: a picture or video this service
 * handles, stored in Slack (not linked from elsewhere), within the size limit, downloadable from
 * an allowed host. A refusal says which file and why, in words a person can act on. GIFs go to
 * the image pipeline (first frame): whether one is animated is only known from its bytes.
 */
export function checkSlackFile(file: SlackFile, rules: FileRules): FileCheck {
  const name = file.name || file.title || file.id;
  if (file.mode === 'tombstone') return { ok: false, name, reason: `${name} has been deleted` };
  if (file.mode === 'external') {
    return {
      ok: false,
      name,
      reason: `${name} is a link to another service, not a file stored in Slack; upload the file itself`,
    };
  }
  const kind = mediaKindOf(file.mimetype, file.filetype ?? extname(name));
  if (!kind) {
    const what = file.mimetype ? ` (it is ${file.mimetype})` : '';
    return {
      ok: false,
      name,
      reason: `${name} is not a picture or a video${what}; I can remove the background from ${ACCEPTED_MEDIA}`,
    };
  }
  if (file.size !== undefined && file.size > rules.maxInputBytes) {
    return {
      ok: false,
      name,
      reason: `${name} is too large (${formatBytes(file.size)}; the limit is ${formatBytes(rules.maxInputBytes)})`,
    };
  }
  const url = file.url_private_download ?? file.url_private;
  if (!url) {
    return {
      ok: false,
      name,
      reason: `I cannot see a download link for ${name} (the app needs the files:read scope)`,
    };
  }
  const host = hostOf(url);
  if (!host || !isAllowedHost(host, rules.fileHosts)) {
    return {
      ok: false,
      name,
      reason: `${name} is stored on ${host ?? 'an unknown host'}, and I only fetch files from ${rules.fileHosts.join(', ')}`,
    };
  }
  return { ok: true, id: file.id, name, url, mediaKind: kind };
}

/**
 * The name a job's input (and so its result) gets: the person's own name, cleaned for display
 * (storage keys and download URLs use a safe form of it).
 */
export function jobFileName(check: Extract<FileCheck, { ok: true }>): string {
  return displayFileName(check.name);
}

function hostOf(url: string): string | undefined {
  try {
    return new URL(url).hostname;
  } catch {
    return undefined;
  }
}
