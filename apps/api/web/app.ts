/**
 * The web page's script (served as /web/app.js): builds the settings form from
 * GET /v1/form-schema, sends each dropped or picked file through POST /v1/convert/, polls
 * POST /v1/results/ and shows the queue place, the progress and the result. Every string from
 * the server goes into the page as text (textContent, attributes), never as HTML.
 */
import type { FormField, FormSchema, ResultsBody as Results } from './api-types.js';

type Kind = 'image' | 'video';

const KEY_STORAGE = 'bgremover.apiKey';
const POLL_MS = 1000;

/** What each parameter does, in the protocol's words (the defaults and ranges come from the server). */
const HELP: Record<string, string> = {
  model: 'AI model',
  alpha_matting: 'Alpha matting: sharper edges on hair and fine details',
  alpha_fg: 'Foreground threshold (higher = stricter)',
  alpha_bg: 'Background threshold (lower = stricter)',
  alpha_erode: 'Edge erosion size',
  alpha_base_size: 'Base size for alpha matting (higher = better, slower)',
  only_mask: 'Return a black and white mask instead',
  bg_type: 'Background type',
  bg_color_value: 'Background colour (bg_type=color)',
  video_format: 'Output format',
  video_bg_color_enabled: 'Solid colour background (mp4_with_color)',
  video_bg_color: 'Video background colour',
  framerate: 'Output frame rate (empty: as the input)',
  frame_limit: 'Process only the first N frames (empty: all)',
};

function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: { className?: string; text?: string } = {},
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (props.className) node.className = props.className;
  if (props.text !== undefined) node.textContent = props.text;
  return node;
}

function byId<T extends HTMLElement>(id: string): T {
  const node = document.getElementById(id);
  if (!node) throw new Error(`The page has no #${id}`);
  return node as T;
}

let schema: FormSchema | undefined;
let schemaReady: Promise<FormSchema>;

/** The key to send: the operator's for this page, else the one the person typed. */
function apiKey(): string {
  return schema?.page_api_key ?? byId<HTMLInputElement>('api-key').value.trim();
}

function setUpKey(): void {
  const input = byId<HTMLInputElement>('api-key');
  const note = byId('key-note');
  input.value = localStorage.getItem(KEY_STORAGE) ?? '';
  note.textContent = input.value
    ? 'Remembered from your last visit.'
    : 'Type it once; this browser remembers it.';
  input.addEventListener('input', () => {
    const key = input.value.trim();
    if (key) localStorage.setItem(KEY_STORAGE, key);
    else localStorage.removeItem(KEY_STORAGE);
    note.textContent = key ? 'Saved in this browser.' : 'Forgotten.';
  });
}

function controlFor(field: FormField, models: FormSchema['models'], defaultModel: string) {
  const wrapper = element('div', { className: 'field' });
  const id = `param-${field.name}`;
  const label = element('label', { text: HELP[field.name] ?? field.name });
  label.htmlFor = id;
  const code = element('code', { text: field.name });
  let control: HTMLInputElement | HTMLSelectElement;
  let hint = '';
  switch (field.kind) {
    case 'boolean': {
      const input = element('input');
      input.type = 'checkbox';
      input.checked = field.default;
      control = input;
      hint = `default ${field.default ? 'on' : 'off'}`;
      break;
    }
    case 'integer': {
      const input = element('input');
      input.type = 'number';
      input.min = String(field.minimum);
      input.max = String(field.maximum);
      input.step = '1';
      if (field.default !== undefined) input.value = String(field.default);
      else input.placeholder = 'not set';
      control = input;
      hint = `${field.minimum} to ${field.maximum}${field.default !== undefined ? `, default ${field.default}` : ', optional'}`;
      break;
    }
    case 'enum': {
      const select = element('select');
      for (const option of field.options) {
        const item = element('option', { text: option });
        item.value = option;
        item.selected = option === field.default;
        select.append(item);
      }
      control = select;
      hint = `default ${field.default}`;
      break;
    }
    case 'color': {
      const input = element('input');
      input.type = 'color';
      input.value = field.default;
      control = input;
      hint = `default ${field.default}`;
      break;
    }
    case 'model': {
      const select = element('select');
      const serverDefault = element('option', {
        text: `Server default (${defaultModel})`,
      });
      serverDefault.value = '';
      select.append(serverDefault);
      for (const model of models) {
        const runs = model.runs === model.name ? '' : ` (runs ${model.runs} on this server)`;
        const item = element('option', { text: `${model.name}: ${model.description}${runs}` });
        item.value = model.name;
        select.append(item);
      }
      control = select;
      hint = `${models.length} installed`;
      break;
    }
  }
  control.id = id;
  control.name = field.name;
  const hintId = `${id}-hint`;
  control.setAttribute('aria-describedby', hintId);
  const hintNode = element('span', { className: 'hint', text: hint });
  hintNode.id = hintId;
  label.append(' ', code);
  if (field.kind === 'boolean') wrapper.classList.add('check');
  wrapper.append(label, control, hintNode);
  return wrapper;
}

function buildSettings(form: FormSchema): void {
  const container = byId('settings');
  const imageNames = new Set(form.image.map((field) => field.name));
  const videoNames = new Set(form.video.map((field) => field.name));
  const groups: [string, FormField[]][] = [
    ['Pictures and videos', form.image.filter((field) => videoNames.has(field.name))],
    ['Pictures only', form.image.filter((field) => !videoNames.has(field.name))],
    ['Videos only', form.video.filter((field) => !imageNames.has(field.name))],
  ];
  for (const [title, fields] of groups) {
    const fieldset = element('fieldset', { className: 'group' });
    fieldset.append(element('legend', { text: title }));
    for (const field of fields) fieldset.append(controlFor(field, form.models, form.default_model));
    container.append(fieldset);
  }
}

/** The form fields for one file of `kind`, read from the controls now. */
function paramsFor(kind: Kind, form: FormSchema): [string, string][] {
  const fields = kind === 'image' ? form.image : form.video;
  const params: [string, string][] = [['convert_to', `${kind}-backgroundremover`]];
  for (const field of fields) {
    const control = document.getElementById(`param-${field.name}`);
    if (control instanceof HTMLInputElement && control.type === 'checkbox') {
      params.push([field.name, String(control.checked)]);
    } else if (control instanceof HTMLInputElement || control instanceof HTMLSelectElement) {
      if (control.value !== '') params.push([field.name, control.value]);
    }
  }
  return params;
}

function kindOf(file: File, form: FormSchema): Kind {
  if (file.type.startsWith('video/')) return 'video';
  if (file.type) return 'image';
  const name = file.name.toLowerCase();
  return form.video_extensions.some((extension) => name.endsWith(extension)) ? 'video' : 'image';
}

function chosenFile(id: string): File | undefined {
  return byId<HTMLInputElement>(id).files?.[0] ?? undefined;
}

/** The row of one file in the results list, and the ways to update it. */
class FileRow {
  readonly item = element('li', { className: 'file' });
  private readonly status = element('p', { className: 'status' });
  private readonly detail = element('p', { className: 'detail' });
  private readonly bar = element('progress');

  constructor(
    readonly file: File,
    readonly kind: Kind,
  ) {
    const title = element('h3', { text: file.name });
    this.status.setAttribute('role', 'status');
    this.bar.max = 100;
    this.bar.setAttribute('aria-label', `Progress of ${file.name}`);
    this.item.dataset.state = 'waiting';
    this.item.append(title, this.status, this.bar, this.detail);
    this.setStatus('waiting', 'Waiting to upload…');
  }

  setStatus(state: string, text: string, detail = ''): void {
    this.item.dataset.state = state;
    if (this.status.textContent !== text) this.status.textContent = text;
    this.detail.textContent = detail;
  }

  setProgress(percent: number | undefined): void {
    if (percent === undefined) this.bar.removeAttribute('value');
    else this.bar.value = percent;
  }

  fail(message: string): void {
    this.setStatus('failed', `Failed: ${message}`);
    this.bar.hidden = true;
    this.item.classList.add('error');
  }

  finish(result: { url: string; filename: string }, warnings: string[]): void {
    // Only a download from this server is shown or linked.
    if (new URL(result.url, location.href).origin !== location.origin) {
      this.fail('The server gave a result address on another site');
      return;
    }
    this.setStatus('done', 'Done.', warnings.join(' '));
    this.bar.hidden = true;
    const isVideo = /\.(mp4|webm|mov|mkv|m4v)$/i.test(result.filename);
    if (isVideo) {
      const video = element('video');
      video.controls = true;
      video.preload = 'metadata';
      video.src = result.url;
      video.className = 'checker result-video';
      video.setAttribute('aria-label', `Result: ${result.filename}`);
      video.addEventListener('error', () => {
        this.detail.textContent =
          'This browser cannot play this format (choose webm or mattekey to watch it here); download it instead.';
      });
      this.item.append(video);
    } else {
      this.item.append(this.compare(result));
    }
    const link = element('a', { className: 'download', text: `Download ${result.filename}` });
    link.href = result.url;
    link.download = result.filename;
    this.item.append(link);
  }

  /** The cut-out over a checkerboard, with the original on top clipped by a slider. */
  private compare(result: { url: string; filename: string }): HTMLElement {
    const figure = element('figure', { className: 'compare' });
    const frame = element('div', { className: 'frame checker' });
    const after = element('img', { className: 'after' });
    after.src = result.url;
    after.alt = `Result: ${result.filename}`;
    frame.append(after);
    const slider = element('input');
    slider.type = 'range';
    slider.min = '0';
    slider.max = '100';
    slider.value = '0';
    slider.setAttribute('aria-label', `Before and after for ${this.file.name}: show the original`);
    if (this.kind === 'image') {
      const before = element('img', { className: 'before' });
      before.src = URL.createObjectURL(this.file);
      before.alt = `Original: ${this.file.name}`;
      const clip = () => {
        before.style.clipPath = `inset(0 ${100 - Number(slider.value)}% 0 0)`;
      };
      clip();
      slider.addEventListener('input', clip);
      frame.append(before);
      figure.append(frame, slider);
    } else {
      figure.append(frame);
    }
    figure.append(
      element('figcaption', {
        text: 'Drag the slider to the right to see the original over the result.',
      }),
    );
    return figure;
  }
}

async function errorMessage(response: Response): Promise<string> {
  try {
    const body = (await response.json()) as { error?: unknown };
    if (typeof body.error === 'string') return body.error;
  } catch {
    // not JSON: fall through
  }
  return `The server answered ${response.status} ${response.statusText}`;
}

async function convert(row: FileRow, form: FormSchema): Promise<string> {
  const body = new FormData();
  for (const [name, value] of paramsFor(row.kind, form)) body.append(name, value);
  body.append('files', row.file, row.file.name);
  const bgImage = chosenFile('bg-image');
  const bgVideo = chosenFile('bg-video');
  const format = (document.getElementById('param-video_format') as HTMLSelectElement | null)?.value;
  const bgType = (document.getElementById('param-bg_type') as HTMLSelectElement | null)?.value;
  if (row.kind === 'image' && bgType === 'image' && bgImage) body.append('bg_image', bgImage);
  if (row.kind === 'video') {
    if (format === 'video_over_video' && bgVideo) body.append('bg_video', bgVideo);
    else if (bgImage && format !== 'video_over_video') body.append('bg_image', bgImage);
  }
  const key = apiKey();
  const response = await fetch('/v1/convert/', {
    method: 'POST',
    body,
    headers: key ? { authorization: key } : {},
  });
  if (!response.ok) throw new Error(await errorMessage(response));
  const answer = (await response.json()) as { uuid?: string };
  if (!answer.uuid) throw new Error('The server gave no uuid');
  return answer.uuid;
}

function describeProgress(row: FileRow, results: Results): void {
  const progress = results.progress?.[0];
  if (results.queue_count > 0) {
    const ahead = results.queue_count;
    row.setStatus('queued', `In the queue: ${ahead} ${ahead === 1 ? 'job' : 'jobs'} ahead`);
    row.setProgress(undefined);
  } else if (!progress) {
    row.setStatus('queued', 'Waiting for a worker…');
    row.setProgress(undefined);
  } else {
    const frames =
      progress.frames_done !== undefined
        ? `frame ${progress.frames_done}${progress.frames_total ? ` of ${progress.frames_total}` : ''}`
        : `${Math.round(progress.percent)}%`;
    row.setStatus('processing', 'Processing…', `${progress.stage}: ${frames}`);
    row.setProgress(progress.percent);
  }
}

async function watch(row: FileRow, uuid: string): Promise<void> {
  for (;;) {
    const response = await fetch('/v1/results/', {
      method: 'POST',
      body: new URLSearchParams({ uuid }),
    });
    if (response.ok) {
      const results = (await response.json()) as Results;
      if (results.finished) {
        const done = results.files[0];
        if (done) row.finish(done, results.warnings);
        else row.fail(results.failed[0]?.error ?? results.errors[0] ?? 'No result');
        return;
      }
      describeProgress(row, results);
    } else if (response.status !== 503) {
      row.fail(await errorMessage(response));
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** Uploads go one after another (each poll runs on its own); the queue does the rest. */
let uploads: Promise<void> = Promise.resolve();

async function send(row: FileRow, form: FormSchema): Promise<void> {
  try {
    row.setStatus('uploading', 'Uploading…');
    const uuid = await convert(row, form);
    row.setStatus('queued', 'Sent; waiting for its place in the queue…');
    void watch(row, uuid).catch((error: unknown) => row.fail(String(error)));
  } catch (error) {
    row.fail(error instanceof Error ? error.message : String(error));
  }
}

/** One row per file at once, in order; each is uploaded when the one before it is sent. */
async function addFiles(files: File[]): Promise<void> {
  if (files.length === 0) return;
  const form = await schemaReady;
  const list = byId('results');
  byId('empty-note').hidden = true;
  for (const file of files) {
    const row = new FileRow(file, kindOf(file, form));
    list.append(row.item);
    uploads = uploads.then(() => send(row, form));
  }
}

/** Files may be dropped anywhere on the page (a drop never navigates away from the results). */
function setUpDrop(): void {
  const zone = byId('drop-zone');
  const input = byId<HTMLInputElement>('file-input');
  input.addEventListener('change', () => {
    if (input.files) void addFiles([...input.files]);
    input.value = '';
  });
  document.addEventListener('dragover', (event) => {
    event.preventDefault();
    zone.classList.add('over');
  });
  document.addEventListener('dragleave', (event) => {
    if (event.relatedTarget === null) zone.classList.remove('over');
  });
  document.addEventListener('drop', (event) => {
    event.preventDefault();
    zone.classList.remove('over');
    if (event.dataTransfer?.files) void addFiles([...event.dataTransfer.files]);
  });
}

async function loadSchema(): Promise<FormSchema> {
  const response = await fetch('/v1/form-schema');
  if (!response.ok) throw new Error(await errorMessage(response));
  const form = (await response.json()) as FormSchema;
  schema = form;
  buildSettings(form);
  byId('settings-status').textContent =
    'Defaults and ranges come from the server; change any before dropping files.';
  if (form.page_api_key) {
    byId('key-typed').hidden = true;
    byId('key-note').textContent = "This server's operator provides a key for this page.";
  }
  return form;
}

setUpKey();
setUpDrop();
schemaReady = loadSchema();
schemaReady.catch((error: unknown) => {
  byId('settings-status').textContent = `Could not load the parameters: ${String(error)}`;
});
