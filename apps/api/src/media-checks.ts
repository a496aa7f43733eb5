/**
 * What `/v1/convert/` decides about the files of a request: which form fields carry inputs and
 * which the background, which files need a probe copy, which inputs fit the request's kind,
 * what background the chosen output needs, what a video's probe allows, and what the client is
 * told when nothing is accepted. Pure: plain data in, verdicts out (no fastify, Redis, storage
 * or ffprobe here).
 */
import {
  type BgRemoverError,
  CONVERT_TO_IMAGE,
  type ConversionParams,
  checkVideoLimits,
  isBgRemoverError,
  ParamError,
  parseConversionParams,
  planFrames,
  type VideoInfo,
  type VideoLengthLimits,
  type VideoParams,
  videoBackgroundOf,
} from '@bgremover/core/contract';

/** The part a file plays in a request: an input to convert, or the background. */
export type UploadRole = 'input' | 'background';

/** What a file was identified as from its bytes. */
export interface SniffedMedia {
  media: 'image' | 'video';
  mime: string;
}

/** A file refused for the reason given: too large or long (413), or unusable (415). */
export interface FileRefusal {
  status: 413 | 415;
  error: string;
}

/** How a video's probe went: its details, or the error ffprobe's inspection raised. */
export type ProbeOutcome = { ok: true; info: VideoInfo } | { ok: false; error: BgRemoverError };

/** A stored file as the checks see it. */
export type CheckedFile =
  | ({ ok: true; filename: string } & SniffedMedia)
  | ({ ok: false; filename: string } & FileRefusal);

const BACKGROUND_FIELDS: readonly string[] = ['bg_image', 'bg_video', 'background'];

/**
 * Which role a multipart file field plays: `bg_image`, `bg_video` and `background` carry the
 * background; every other file field (`files`, PHP's `file[0]`, `file[1]`...) is an input.
 */
export function roleOfField(fieldName: string): UploadRole {
  return BACKGROUND_FIELDS.includes(fieldName) ? 'background' : 'input';
}

/**
 * Whether an upload needs a local copy to probe while it streams to storage: inputs that may be
 * converted as videos (videos, and GIFs, which video requests take), unless the request has
 * already said (`convert_to` sent before the file) that it converts images.
 */
export function needsProbeCopy(
  role: UploadRole,
  sniffed: SniffedMedia,
  convertTo: string | undefined,
): boolean {
  if (role !== 'input' || convertTo?.trim() === CONVERT_TO_IMAGE) return false;
  return sniffed.media === 'video' || sniffed.mime === 'image/gif';
}

/**
 * Refuses an input that does not fit the request's kind, saying what to send instead: a video
 * in an image request, or a still image (not a GIF) in a video request.
 */
export function mediaKindRefusal(
  file: { filename: string } & SniffedMedia,
  kind: ConversionParams['kind'],
): FileRefusal | undefined {
  if (kind === 'image' && file.media === 'video') {
    return {
      status: 415,
      error: `${file.filename} is a video: send it with convert_to=video-backgroundremover`,
    };
  }
  if (kind === 'video' && file.media === 'image' && file.mime !== 'image/gif') {
    return {
      status: 415,
      error: `${file.filename} is an image: send it with convert_to=image-backgroundremover`,
    };
  }
  return undefined;
}

/**
 * The background the chosen output needs: an image for `bg_type=image` (unless only the mask
 * is asked for), `video_over_image` and `gif_with_bg`; a video for `video_over_video`; none
 * otherwise.
 */
export function backgroundNeeded(conversion: ConversionParams): 'image' | 'video' | undefined {
  if (conversion.kind === 'image') {
    return conversion.params.bg_type === 'image' && !conversion.params.only_mask
      ? 'image'
      : undefined;
  }
  return videoBackgroundOf(conversion.params.video_format);
}

/**
 * Says what is wrong with the request's background: a refused background file, or one the
 * chosen output needs and that is missing or of the wrong kind (a GIF may stand for a video).
 * Undefined when the background is fine or not needed.
 */
export function backgroundProblem(
  conversion: ConversionParams,
  background: CheckedFile | undefined,
): string | undefined {
  if (background && !background.ok) return `bg_image: ${background.error}`;
  const needs = backgroundNeeded(conversion);
  if (!needs) return undefined;
  const field = needs === 'video' ? 'bg_video' : 'bg_image';
  const why =
    conversion.kind === 'image'
      ? 'bg_type=image'
      : `video_format=${conversion.params.video_format}`;
  if (!background) return `${field}: ${why} needs a background ${needs}; send it as ${field}`;
  if (background.media !== needs && !(needs === 'video' && background.mime === 'image/gif')) {
    return `${field}: ${why} needs a background ${needs}, but the file sent is ${background.mime}`;
  }
  return undefined;
}

/**
 * What a video input's probe allows for this request: its duration (for the queue priority:
 * shorter videos go first), or a refusal for a file ffprobe cannot use (no video stream, zero
 * length, corrupt: 415) or one over the size or length limits, on the frames this request would
 * make (413). Errors other than `BgRemoverError`s are bugs and are thrown.
 */
export function videoProbeVerdict(
  filename: string,
  outcome: ProbeOutcome,
  params: VideoParams,
  limits: VideoLengthLimits,
): { ok: true; durationSeconds: number | undefined } | ({ ok: false } & FileRefusal) {
  try {
    if (!outcome.ok) throw outcome.error;
    checkVideoLimits(outcome.info, planFrames(outcome.info, params), limits);
    return { ok: true, durationSeconds: outcome.info.duration };
  } catch (error) {
    if (!isBgRemoverError(error)) throw error;
    const tooBig = error.code === 'input_too_long' || error.code === 'input_too_large';
    return { ok: false, status: tooBig ? 413 : 415, error: `${filename}: ${error.message}` };
  }
}

/**
 * The answer when no input of a request is accepted: 413 when every one was too large or long,
 * else 415; the message lists each file's reason.
 */
export function noneAcceptedRefusal(
  files: readonly ({ ok: true } | ({ ok: false } & FileRefusal))[],
): FileRefusal {
  const status = files.every((file) => !file.ok && file.status === 413) ? 413 : 415;
  return { status, error: files.map((file) => (file.ok ? '' : file.error)).join('; ') };
}

/** An input as the request check sees it: the stored file and, for a probed one, its probe. */
export type CheckedInput = CheckedFile & { probe?: ProbeOutcome };

/** One input's verdict: accepted (with a video's duration, when known) or refused. */
export type InputVerdict =
  | { ok: true; filename: string; durationSeconds: number | undefined }
  | ({ ok: false; filename: string } & FileRefusal);

/** A whole request's verdict: refused (status and message), or its conversion and inputs. */
export type RequestVerdict =
  | { ok: false; status: 400 | 413 | 415; error: string }
  | {
      ok: true;
      conversion: ConversionParams;
      /** One per input, in order; at least one is accepted. */
      inputs: InputVerdict[];
    };

/**
 * Checks a fully read request, in the order the client is told about problems: no inputs (400),
 * bad parameters (400, named), a missing or wrong background (400); then each input against the
 * request's kind and, for videos, against its probe and the video limits. A request with no
 * accepted input is refused (413 or 415, listing each file's reason).
 */
export function checkRequest(request: {
  fields: Readonly<Record<string, string>>;
  inputs: readonly CheckedInput[];
  background: CheckedFile | undefined;
  limits: VideoLengthLimits;
}): RequestVerdict {
  if (request.inputs.length === 0) {
    return {
      ok: false,
      status: 400,
      error: 'No files: send them in the "files" field (or file[0], file[1], ...)',
    };
  }
  let conversion: ConversionParams;
  try {
    conversion = parseConversionParams(request.fields);
  } catch (error) {
    if (error instanceof ParamError) return { ok: false, status: 400, error: error.message };
    throw error;
  }
  const problem = backgroundProblem(conversion, request.background);
  if (problem) return { ok: false, status: 400, error: problem };
  const inputs = request.inputs.map((input) => checkInput(input, conversion, request.limits));
  if (!inputs.some((input) => input.ok)) return { ok: false, ...noneAcceptedRefusal(inputs) };
  return { ok: true, conversion, inputs };
}

function checkInput(
  input: CheckedInput,
  conversion: ConversionParams,
  limits: VideoLengthLimits,
): InputVerdict {
  const { filename } = input;
  if (!input.ok) return { ok: false, filename, status: input.status, error: input.error };
  const refusal = mediaKindRefusal(input, conversion.kind);
  if (refusal) return { ok: false, filename, ...refusal };
  if (conversion.kind === 'image' || !input.probe) {
    return { ok: true, filename, durationSeconds: undefined };
  }
  return { filename, ...videoProbeVerdict(filename, input.probe, conversion.params, limits) };
}
