import type { VideoFormat } from '@bgremover/core/contract';
import {
  type AttachmentInfo,
  type AttachmentPolicy,
  checkDeclared,
  declaredKind,
  type MediaKind,
} from './attachments.js';
import { framesProblem, type InspectOptions, inspectAttachment } from './inspect-attachment.js';
import { buildJobParams, type ChosenOptions } from './request-params.js';

/** One file someone asked to process, with the options they chose. */
export interface FileRequest {
  attachment: AttachmentInfo;
  chosen: ChosenOptions;
  background?: AttachmentInfo | undefined;
  /**
   * A `/removebg url:` link rather than a Discord attachment: the bot does not download it (the
   * worker fetches it with its SSRF-safe fetch and reads its bytes); its kind comes from its
   * extension (a picture when it has none).
   */
  link?: boolean;
}

/** A file that passed every check, ready to become a job. */
export interface PreparedFile {
  request: FileRequest;
  kind: MediaKind;
  params: Record<string, unknown>;
  durationSeconds: number | undefined;
}

export type Checked<T> = ({ ok: true } & T) | { ok: false; problem: string };

export interface PrepareSettings extends AttachmentPolicy, InspectOptions {
  defaultVideoFormat: VideoFormat;
}

/**
 * The checks that need no download (host, size, declared type, options), fast enough to run
 * before an interaction is acknowledged, so their refusals can be plain ephemeral replies.
 */
export function precheckFile(
  request: FileRequest,
  settings: PrepareSettings,
): Checked<{ kind: MediaKind }> {
  const declared = request.link
    ? { ok: true as const, kind: declaredKind(request.attachment) ?? ('image' as const) }
    : checkDeclared(request.attachment, settings);
  if (!declared.ok) return declared;
  if (request.background) {
    const background = checkDeclared(request.background, settings);
    if (!background.ok) return { ok: false, problem: `bg_image: ${background.problem}` };
  }
  const chosen = chosenWith(request);
  const params = buildJobParams(declared.kind, chosen, settings.defaultVideoFormat);
  if (!params.ok) {
    // A GIF says image/gif whether or not it is animated; until its bytes are read, video
    // options are fine for it too.
    const gif = request.attachment.contentType?.toLowerCase() === 'image/gif';
    if (gif && buildJobParams('video', chosen, settings.defaultVideoFormat).ok) {
      return { ok: true, kind: 'video' };
    }
    return params;
  }
  return { ok: true, kind: declared.kind };
}

/**
 * Looks at the bytes (the file and its background), then builds and validates the parameters
 * for what the file really is. Refusals name the file and the problem.
 */
export async function prepareFile(
  request: FileRequest,
  settings: PrepareSettings,
): Promise<Checked<{ prepared: PreparedFile }>> {
  const pre = precheckFile(request, settings);
  if (!pre.ok) return pre;
  const inspected = request.link
    ? { ok: true as const, kind: pre.kind, durationSeconds: undefined, fps: undefined }
    : await inspectAttachment(request.attachment, settings);
  if (!inspected.ok) return inspected;
  const params = buildJobParams(inspected.kind, chosenWith(request), settings.defaultVideoFormat);
  if (!params.ok) return { ok: false, problem: `${request.attachment.name}: ${params.problem}` };
  if (inspected.kind === 'video' && inspected.durationSeconds !== undefined) {
    const tooMany = framesProblem(
      request.attachment.name,
      inspected.durationSeconds,
      inspected.fps,
      params.params,
      settings.maxVideoFrames,
    );
    if (tooMany) return { ok: false, problem: tooMany };
  }
  if (request.background) {
    const background = await inspectAttachment(request.background, settings);
    if (!background.ok) return { ok: false, problem: `bg_image: ${background.problem}` };
    const wanted: MediaKind = params.params.video_format === 'video_over_video' ? 'video' : 'image';
    if (background.kind !== wanted) {
      return {
        ok: false,
        problem: `bg_image: ${request.background.name} must be a ${wanted === 'image' ? 'picture' : 'video'} here`,
      };
    }
  }
  return {
    ok: true,
    prepared: {
      request,
      kind: inspected.kind,
      params: params.params,
      durationSeconds: inspected.durationSeconds,
    },
  };
}

function chosenWith(request: FileRequest): ChosenOptions {
  return { ...request.chosen, hasBackground: request.background !== undefined };
}
