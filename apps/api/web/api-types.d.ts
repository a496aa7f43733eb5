/**
 * The JSON the web page reads, written once for both sides: the server (src/web-page.ts,
 * src/routes/results.ts) and the page's script (web/app.ts). A declaration file because the
 * script is compiled on its own (web/tsconfig.json, rootDir web/), and types are all it shares.
 */

/** One form control of the page, derived from a parameter of the zod schemas. */
export type FormField =
  | { name: string; kind: 'boolean'; default: boolean }
  | { name: string; kind: 'integer'; default?: number; minimum: number; maximum: number }
  | { name: string; kind: 'enum'; default: string; options: string[] }
  | { name: string; kind: 'color'; default: string }
  | { name: string; kind: 'model' };

/** What `GET /v1/form-schema` answers. */
export interface FormSchema {
  image: FormField[];
  video: FormField[];
  /** Models a request may name here: installed, or standing in by MODEL_SUBSTITUTES. */
  models: { name: string; description: string; runs: string }[];
  /** What runs when a request names no model. */
  default_model: string;
  /** File name endings the API treats as video when the browser gives no type. */
  video_extensions: string[];
  /** The operator's key for the page (WEB_PAGE_API_KEY), or null: the person types theirs. */
  page_api_key: string | null;
}

/** The protocol's `/v1/results/` answer. */
export interface ResultsBody {
  files: { url: string; filename: string }[];
  failed: { filename: string; error: string }[];
  finished: boolean;
  queue_count: number;
  errors: string[];
  /** Ours, beyond the protocol: notes per finished file (e.g. which model ran instead of another). */
  warnings: string[];
  /**
   * Ours, beyond the protocol: how each started file of an unfinished request is getting on, as its
   * worker reports it (stage, percent, and frames for videos). Absent when there is none to
   * report, so a finished request's body is the protocol's plus `warnings`.
   */
  progress?: FileProgress[];
}

/** One started file's progress, from its job (`job.updateProgress` in the worker). */
export interface FileProgress {
  filename: string;
  stage: string;
  percent: number;
  frames_done?: number;
  frames_total?: number;
}
