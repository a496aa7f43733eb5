import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  imageParamsSchema,
  isModelInstalled,
  modelNames,
  modelRegistry,
  resolveModelName,
  videoFileExtensions,
  videoParamsSchema,
} from '@bgremover/core/contract';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { FormField, FormSchema } from '../web/api-types.js';
import type { ApiContext } from './context.js';

/**
 * The web page at `/`: a static HTML page, a stylesheet and a script (compiled from
 * apps/api/web/ into dist/web/ by the build), read once at start-up and served from memory with
 * strong ETags, plus `GET /v1/form-schema`, which tells the page the parameters (from core's
 * zod schemas), the installed models and, when the operator set one, the page's API key.
 */

/** The page's form, as the server sends it: one declaration, shared with the page's script. */
export type { FormField, FormSchema };

type JsonProperty = {
  type?: string;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  enum?: unknown[];
};

const HEX_COLOUR = /^#[0-9a-f]{6}$/i;

/**
 * The page's controls for one parameter table, read from the JSON Schema of the same zod schema
 * the API validates with, so defaults and ranges cannot drift. `convert_to` is left out: the
 * page sets it from each file's kind.
 */
export function formFieldsOf(schema: z.ZodType): FormField[] {
  const json = z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' }) as {
    properties?: Record<string, JsonProperty>;
  };
  const fields: FormField[] = [];
  for (const [name, property] of Object.entries(json.properties ?? {})) {
    if (name === 'convert_to') continue;
    if (name === 'model') {
      fields.push({ name, kind: 'model' });
    } else if (property.type === 'boolean') {
      fields.push({ name, kind: 'boolean', default: property.default === true });
    } else if (property.type === 'integer') {
      fields.push({
        name,
        kind: 'integer',
        ...(typeof property.default === 'number' ? { default: property.default } : {}),
        minimum: property.minimum ?? 0,
        maximum: property.maximum ?? Number.MAX_SAFE_INTEGER,
      });
    } else if (property.enum && typeof property.default === 'string') {
      fields.push({
        name,
        kind: 'enum',
        default: property.default,
        options: property.enum.map(String),
      });
    } else if (typeof property.default === 'string' && HEX_COLOUR.test(property.default)) {
      fields.push({ name, kind: 'color', default: property.default });
    } else {
      throw new Error(`The web page has no control for parameter ${name}`);
    }
  }
  return fields;
}

/** Which models this server can run, and which runs for each (itself or its substitute). */
async function availableModels(context: ApiContext): Promise<FormSchema['models']> {
  const { core } = context.config;
  const models: FormSchema['models'] = [];
  for (const name of modelNames) {
    const substitute = core.modelSubstitutes[name];
    const runs = (await isModelInstalled(name, core))
      ? name
      : substitute && (await isModelInstalled(substitute, core))
        ? substitute
        : undefined;
    if (runs) models.push({ name, description: modelRegistry[name].description, runs });
  }
  return models;
}

/** A file served from memory: its bytes, type, strong ETag and cache policy. */
interface StaticAsset {
  body: Buffer;
  type: string;
  etag: string;
  /** Short hash of the bytes, used as `?v=` in the page's asset URLs. */
  version: string;
}

function asset(body: Buffer, type: string): StaticAsset {
  const hash = createHash('sha256').update(body).digest('base64url');
  return { body, type, etag: `"${hash}"`, version: hash.slice(0, 12) };
}

/** Where the build puts the page (dist/web/), from src/ (tests, tsx) and dist/ alike. */
const WEB_DIR = fileURLToPath(new URL('../dist/web/', import.meta.url));

/**
 * The page's Content-Security-Policy: its own script and stylesheet only (no inline code),
 * fetches to this origin, pictures and videos from here or from the person's own files (blob:).
 */
export const WEB_PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob: data:",
  "media-src 'self' blob:",
  "connect-src 'self'",
  "form-action 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

function loadAssets(): Map<string, StaticAsset> | Error {
  try {
    const script = asset(readFileSync(`${WEB_DIR}app.js`), 'text/javascript; charset=utf-8');
    const style = asset(readFileSync(`${WEB_DIR}style.css`), 'text/css; charset=utf-8');
    const html = readFileSync(`${WEB_DIR}index.html`, 'utf8')
      .replace('/web/app.js', `/web/app.js?v=${script.version}`)
      .replace('/web/style.css', `/web/style.css?v=${style.version}`);
    return new Map([
      ['/', asset(Buffer.from(html), 'text/html; charset=utf-8')],
      ['/web/app.js', script],
      ['/web/style.css', style],
    ]);
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

function sendAsset(request: FastifyRequest, reply: FastifyReply, file: StaticAsset, path: string) {
  const version = (request.query as Record<string, unknown> | undefined)?.v;
  reply
    .header('etag', file.etag)
    .header('x-content-type-options', 'nosniff')
    // The page is revalidated (a 304 costs nothing); an asset asked for by its hash never changes.
    .header(
      'cache-control',
      path !== '/' && version === file.version ? 'public, max-age=31536000, immutable' : 'no-cache',
    );
  if (path === '/') {
    reply
      .header('content-security-policy', WEB_PAGE_CSP)
      .header('referrer-policy', 'no-referrer')
      .header('x-frame-options', 'DENY');
  }
  const presented = request.headers['if-none-match'];
  if (presented?.split(',').some((tag) => tag.trim() === file.etag)) {
    return reply.code(304).send();
  }
  return reply.type(file.type).send(file.body);
}

/**
 * `GET /` (the page), `GET /web/app.js`, `GET /web/style.css` and `GET /v1/form-schema`. The
 * files are read and hashed once, here; when the build has not made them, `/` answers 503 saying
 * so and the API runs on.
 */
export function registerWebPageRoutes(app: FastifyInstance, context: ApiContext): void {
  const assets = loadAssets();
  if (assets instanceof Error) {
    app.log.warn(
      { err: assets },
      `the web page is not built (${WEB_DIR}); run npm run build -w @bgremover/api`,
    );
  }
  const imageFields = formFieldsOf(imageParamsSchema);
  const videoFields = formFieldsOf(videoParamsSchema);
  for (const path of ['/', '/web/app.js', '/web/style.css']) {
    app.get(path, async (request, reply) => {
      const file = assets instanceof Error ? undefined : assets.get(path);
      if (!file) {
        return reply
          .code(503)
          .send({ error: 'The web page is not built on this server: run the build' });
      }
      return sendAsset(request, reply, file, path);
    });
  }
  app.get('/v1/form-schema', async (_request, reply) => {
    const body: FormSchema = {
      image: imageFields,
      video: videoFields,
      models: await availableModels(context),
      default_model: await resolveModelName(undefined, context.config.core),
      video_extensions: [...videoFileExtensions],
      page_api_key: context.config.webPageApiKey ?? null,
    };
    return reply.header('cache-control', 'no-store').send(body);
  });
}
