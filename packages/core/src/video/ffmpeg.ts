/**
 * The one module that talks to fluent-ffmpeg. Everything else in video/ describes what ffmpeg
 * should do as plain argument lists and gets back a job handle and typed probe data, so the
 * library (archived upstream in 2025) can be replaced here alone.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import ffmpeg from 'fluent-ffmpeg';

/** One ffmpeg input: a file path or a readable stream (at most one stream per job). */
export interface FfmpegInput {
  source: string | Readable;
  /** Options placed before this input's `-i` (e.g. `-f rawvideo`, `-t 2.5`). */
  options?: readonly string[];
}

/**
 * Protocols ffmpeg and ffprobe may open for an input: our own files and pipes. A container that
 * names further resources (an HLS playlist, a concat list, a reference movie) cannot make them
 * fetch a URL, open a socket or a device.
 */
export const INPUT_PROTOCOL_WHITELIST = 'file,pipe';

/**
 * Demuxers ffmpeg may read an input with: the accepted video containers (see probe.ts: the mov
 * demuxer covers mp4/m4v/3gp, matroska covers webm), GIF, and raw frames from our own pipe.
 * Demuxers that open further inputs (hls, dash, concat, ...) are not on it.
 */
export const DECODE_FORMAT_WHITELIST = 'mov,matroska,avi,gif,rawvideo';

/**
 * Demuxers ffprobe may use: those above plus still images, common single-file video containers
 * and audio, so that a file we do not accept is named for what it is ("a still image", "the flv
 * container", "audio only") rather than merely unreadable. None of them opens another input.
 */
export const PROBE_FORMAT_WHITELIST = [
  'mov',
  'matroska',
  'avi',
  'gif',
  'image2',
  'png_pipe',
  'jpeg_pipe',
  'webp_pipe',
  'bmp_pipe',
  'tiff_pipe',
  'flv',
  'mpegts',
  'mpeg',
  'asf',
  'ogg',
  'ivf',
  'wav',
  'mp3',
  'aac',
  'flac',
].join(',');

/** The input options that hold an input to the whitelists (placed before its `-i`). */
export function inputWhitelistOptions(formats = DECODE_FORMAT_WHITELIST): string[] {
  return ['-protocol_whitelist', INPUT_PROTOCOL_WHITELIST, '-format_whitelist', formats];
}

/** What one ffmpeg process should do. */
export interface FfmpegSpec {
  inputs: readonly FfmpegInput[];
  /** A `-filter_complex` graph, when one is needed. */
  complexFilter?: string;
  /** Options placed before the output (codecs, `-map`, `-f`, `-frames:v` ...). */
  outputOptions: readonly string[];
  /** A file path, or a stream that receives ffmpeg's stdout. */
  output: string | Writable;
  /** Process niceness (0 = normal priority; higher yields the CPU to the model). */
  niceness?: number;
}

/**
 * Threads for each ffmpeg process: half the cores (at least one), so the decoder, the encoder
 * and the model's own threads do not all fight over every core.
 */
export function ffmpegThreads(): number {
  return Math.max(1, Math.floor(availableParallelism() / 2));
}

/** A running ffmpeg process. */
export interface FfmpegJob {
  /** Settles when ffmpeg exits: resolves on success, rejects with its last stderr lines. */
  readonly done: Promise<void>;
  /** Ends the process at once (SIGKILL); `done` then rejects with `FfmpegKilledError`. */
  kill(): void;
}

/** `done` of a job that was ended with `kill()`. */
export class FfmpegKilledError extends Error {
  constructor() {
    super('ffmpeg was stopped');
    this.name = 'FfmpegKilledError';
  }
}

/** An ffmpeg run that failed; `stderrTail` holds its last lines of diagnostics. */
export class FfmpegFailedError extends Error {
  readonly stderrTail: string;
  constructor(message: string, stderrTail: string) {
    super(message);
    this.name = 'FfmpegFailedError';
    this.stderrTail = stderrTail;
  }
}

/**
 * Starts ffmpeg as its own process with the given inputs, filter graph and output. Never throws
 * synchronously for a failed run: the outcome is `done`. Output streams given here are written
 * by ffmpeg's stdout with back-pressure.
 */
export function startFfmpeg(spec: FfmpegSpec): FfmpegJob {
  const command = ffmpeg({ stdoutLines: 0, niceness: spec.niceness ?? 0 });
  for (const input of spec.inputs) {
    command.input(input.source);
    command.inputOptions([...inputWhitelistOptions(), ...(input.options ?? [])]);
  }
  if (spec.complexFilter !== undefined) {
    command.outputOptions(['-filter_complex', spec.complexFilter]);
  }
  command.outputOptions(['-hide_banner', '-nostdin', '-loglevel', 'error', ...spec.outputOptions]);
  let killed = false;
  const done = new Promise<void>((resolve, reject) => {
    command.on('end', () => resolve());
    command.on('error', (error: Error, _stdout: string | null, stderr: string | null) => {
      if (killed) reject(new FfmpegKilledError());
      else reject(new FfmpegFailedError(error.message, lastLines(stderr ?? '', 8)));
    });
  });
  // The caller may kill before awaiting `done`; never let that be an unhandled rejection.
  done.catch(() => undefined);
  if (typeof spec.output === 'string') command.output(spec.output);
  else command.output(spec.output);
  command.run();
  return {
    done,
    kill() {
      if (killed) return;
      killed = true;
      command.kill('SIGKILL');
    },
  };
}

/**
 * A stream to hand ffmpeg as its stdin or stdout. fluent-ffmpeg treats an output stream's
 * `close` as "stop ffmpeg", racing the process' own exit, so these never emit `close`.
 */
export function ffmpegPipe(highWaterMark = 1 << 20): PassThrough {
  return new PassThrough({ highWaterMark, autoDestroy: false, emitClose: false });
}

/** One stream as ffprobe reports it (the fields video/ uses). */
export interface ProbedStream {
  index: number;
  codecType: string | undefined;
  codecName: string | undefined;
  width: number | undefined;
  height: number | undefined;
  pixFmt: string | undefined;
  avgFrameRate: string | undefined;
  rFrameRate: string | undefined;
  /** Seconds, when the container states it. */
  duration: number | undefined;
  /** Frames, when the container states it (mp4/mov do, webm/mkv do not). */
  frameCount: number | undefined;
  /** `progressive`, `tt`, `bb`, `tb`, `bt` (interlaced), or undefined when unknown. */
  fieldOrder: string | undefined;
  /** Display rotation in degrees (phone videos), 0 when none. */
  rotation: number;
  /** Cover art in an audio file (a one-picture "video" stream). */
  attachedPicture: boolean;
  tags: Record<string, string>;
}

/** ffprobe's view of a file. */
export interface ProbedMedia {
  formatName: string | undefined;
  /** Seconds. */
  duration: number | undefined;
  streams: ProbedStream[];
}

/** ffprobe runs at most this long; a file it cannot read in this time is refused. */
export const FFPROBE_TIMEOUT_MS = 10_000;
/**
 * Address space one ffprobe may use (`prlimit --as`). It still reports the size of a frame too
 * large to decode in it: a 16000x16000 H.264 frame costs 0.8 s and 150 MB under this limit,
 * 2.4 s and 660 MB without it.
 */
export const FFPROBE_MEMORY_BYTES = 512 * 1024 * 1024;
/** ffprobe processes one Node process runs at once; the others wait their turn. */
export const FFPROBE_CONCURRENCY = 2;
/** Bytes of ffprobe's JSON read at most (a file with thousands of streams is refused). */
const FFPROBE_MAX_OUTPUT = 4 * 1024 * 1024;

let probesRunning = 0;
const probeQueue: Array<() => void> = [];

async function probeSlot(): Promise<() => void> {
  if (probesRunning >= FFPROBE_CONCURRENCY) {
    await new Promise<void>((resolve) => probeQueue.push(resolve));
  } else {
    probesRunning++;
  }
  let freed = false;
  return () => {
    if (freed) return;
    freed = true;
    const next = probeQueue.shift();
    if (next) next();
    else probesRunning--;
  };
}

/** `prlimit` when the system has it (util-linux), looked up once. */
let prlimitPath: string | undefined | null = null;
function findPrlimit(): string | undefined {
  if (prlimitPath === null) {
    prlimitPath = ['/usr/bin/prlimit', '/bin/prlimit'].find((path) => existsSync(path));
  }
  return prlimitPath;
}

/**
 * Runs ffprobe on a file, under a time limit (`timeoutMs`, killed with SIGKILL), a memory limit
 * (its address space, through `prlimit` where the system has it) and a cap on how many run at
 * once in this process, so that a tiny file declaring a huge frame or an endless stream costs
 * seconds and a bounded amount of memory. Rejects with ffprobe's message when it cannot read
 * the file, or with "ffprobe did not finish within ..." / "... ran out of memory".
 */
export async function probeMedia(
  path: string,
  options: { timeoutMs?: number; memoryBytes?: number } = {},
): Promise<ProbedMedia> {
  const timeoutMs = options.timeoutMs ?? FFPROBE_TIMEOUT_MS;
  const memoryBytes = options.memoryBytes ?? FFPROBE_MEMORY_BYTES;
  const ffprobe = process.env.FFPROBE_PATH || 'ffprobe';
  const args = [
    '-v',
    'error',
    ...inputWhitelistOptions(PROBE_FORMAT_WHITELIST),
    '-print_format',
    'json',
    '-show_streams',
    '-show_format',
    path,
  ];
  const prlimit = findPrlimit();
  const [file, argv] = prlimit
    ? [prlimit, [`--as=${memoryBytes}`, '--', ffprobe, ...args]]
    : [ffprobe, args];
  const free = await probeSlot();
  try {
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(
        file,
        argv,
        { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: FFPROBE_MAX_OUTPUT },
        (error, out, err) => {
          if (!error) {
            resolve(out);
            return;
          }
          const killed = (error as { killed?: boolean }).killed;
          const signal = (error as { signal?: string | null }).signal;
          if (killed && signal === 'SIGKILL') {
            reject(new Error(`ffprobe did not finish within ${timeoutMs / 1000} s`));
          } else if (/Cannot allocate memory|std::bad_alloc|out of memory/i.test(err)) {
            reject(new Error(`ffprobe ran out of memory (over ${memoryBytes >> 20} MB)`));
          } else {
            reject(new Error(lastLines(err, 4) || error.message));
          }
        },
      );
    });
    const data = JSON.parse(stdout) as {
      format?: { format_name?: string; duration?: unknown };
      streams?: ffmpeg.FfprobeStream[];
    };
    return {
      formatName: data.format?.format_name,
      duration: finiteNumber(data.format?.duration),
      streams: (data.streams ?? []).map(toProbedStream),
    };
  } finally {
    free();
  }
}

function toProbedStream(stream: ffmpeg.FfprobeStream): ProbedStream {
  const tags: Record<string, string> = {};
  const rawTags: unknown = stream.tags;
  if (rawTags && typeof rawTags === 'object') {
    for (const [key, value] of Object.entries(rawTags)) tags[key.toLowerCase()] = String(value);
  }
  return {
    index: stream.index,
    codecType: stream.codec_type,
    codecName: stream.codec_name,
    width: stream.width,
    height: stream.height,
    pixFmt: stream.pix_fmt,
    avgFrameRate: stream.avg_frame_rate,
    rFrameRate: stream.r_frame_rate,
    duration: finiteNumber(stream.duration),
    frameCount: finiteNumber(stream.nb_frames),
    fieldOrder: typeof stream.field_order === 'string' ? stream.field_order : undefined,
    rotation:
      finiteNumber(stream.rotation) ?? sideDataRotation(stream) ?? finiteNumber(tags.rotate) ?? 0,
    attachedPicture: Number(stream.disposition?.attached_pic ?? 0) === 1,
    tags,
  };
}

/** The display matrix's rotation, which ffprobe's JSON keeps in the stream's side data. */
function sideDataRotation(stream: ffmpeg.FfprobeStream): number | undefined {
  const list: unknown = (stream as { side_data_list?: unknown }).side_data_list;
  if (!Array.isArray(list)) return undefined;
  for (const entry of list) {
    const rotation = finiteNumber((entry as { rotation?: unknown } | null)?.rotation);
    if (rotation !== undefined) return rotation;
  }
  return undefined;
}

function finiteNumber(value: unknown): number | undefined {
  const number = typeof value === 'number' ? value : Number.parseFloat(String(value));
  return Number.isFinite(number) ? number : undefined;
}

function lastLines(text: string, count: number): string {
  return text.trim().split('\n').slice(-count).join('\n');
}
