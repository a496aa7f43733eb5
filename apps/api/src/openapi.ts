import { imageParamsSchema, videoParamsSchema } from '@bgremover/core/contract';
import { z } from 'zod';

type JsonSchema = Record<string, unknown> & { properties?: Record<string, unknown> };

/** A parameter table as a JSON Schema for a multipart form: typed, defaulted, nothing required but convert_to. */
function formSchema(schema: z.ZodType, fileProperties: Record<string, unknown>): JsonSchema {
  const json = z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' }) as JsonSchema;
  delete json.$schema;
  return {
    ...json,
    properties: {
      ...fileProperties,
      ...json.properties,
      lang: { type: 'string', description: 'Accepted and ignored' },
    },
    required: ['files', 'convert_to'],
    additionalProperties: true,
  };
}

const binary = { type: 'string', format: 'binary' };
const errorSchema = {
  type: 'object',
  properties: { error: { type: 'string' } },
  required: ['error'],
};
const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});

/**
 * The OpenAPI 3.1 document of the API, generated from core's zod parameter schemas, so the
 * docs cannot drift from what the server validates.
 */
export function buildOpenApiDocument(): Record<string, unknown> {
  const files = {
    files: {
      type: 'array',
      items: binary,
      description: 'One or more files (repeated "files" fields, or file[0], file[1], ...)',
    },
  };
  return {
    openapi: '3.1.0',
    info: {
      title: 'bgremover API',
      version: '1.0.0',
      description:
        'Background removal for images and videos, compatible with the backgroundremoverai.com API: POST files to /v1/convert/, then poll /v1/results/ with the uuid and download the files it lists. Form fields may be strings ("true", "240").',
    },
    components: {
      securitySchemes: { apiKey: { type: 'apiKey', in: 'header', name: 'Authorization' } },
      schemas: {
        Error: errorSchema,
        ImageParams: formSchema(imageParamsSchema, {
          ...files,
          bg_image: { ...binary, description: 'Background picture for bg_type=image' },
        }),
        VideoParams: formSchema(videoParamsSchema, {
          ...files,
          bg_image: {
            ...binary,
            description: 'Background picture for video_over_image and gif_with_bg',
          },
          bg_video: { ...binary, description: 'Background video for video_over_video' },
        }),
        Results: {
          type: 'object',
          properties: {
            files: {
              type: 'array',
              items: {
                type: 'object',
                properties: { url: { type: 'string' }, filename: { type: 'string' } },
              },
            },
            failed: {
              type: 'array',
              items: {
                type: 'object',
                properties: { filename: { type: 'string' }, error: { type: 'string' } },
              },
            },
            finished: { type: 'boolean' },
            queue_count: {
              type: 'integer',
              description:
                'Jobs that will run before this request: the running ones plus those queued ahead of its first file (images before videos); 0 once one of its files has started',
            },
            errors: { type: 'array', items: { type: 'string' } },
            warnings: {
              type: 'array',
              items: { type: 'string' },
              description: 'Notes per finished file (beyond the protocol)',
            },
            progress: {
              type: 'array',
              description:
                'Beyond the protocol, and only while a file of an unfinished request has started: per started file, the stage (fetching, processing, storing, delivering), percent and, for videos, frames done and total',
              items: {
                type: 'object',
                properties: {
                  filename: { type: 'string' },
                  stage: { type: 'string' },
                  percent: { type: 'number' },
                  frames_done: { type: 'integer' },
                  frames_total: { type: 'integer' },
                },
                required: ['filename', 'stage', 'percent'],
              },
            },
          },
        },
      },
    },
    paths: {
      '/v1/convert/': {
        post: {
          summary: 'Submit images or videos',
          security: [{ apiKey: [] }],
          requestBody: {
            required: true,
            content: {
              'multipart/form-data': {
                schema: {
                  oneOf: [
                    { $ref: '#/components/schemas/ImageParams' },
                    { $ref: '#/components/schemas/VideoParams' },
                  ],
                },
              },
            },
          },
          responses: {
            '200': {
              description: 'Accepted',
              content: {
                'application/json': {
                  schema: { type: 'object', properties: { uuid: { type: 'string' } } },
                },
              },
            },
            '400': errorResponse(
              'No files, too many, a bad, over-long or repeated parameter, or a part header with a raw CR/LF (the message names it)',
            ),
            '401': errorResponse('Missing or invalid API key'),
            '408': errorResponse(
              'The upload stalled (UPLOAD_IDLE_TIMEOUT_MS) or ran too long (UPLOAD_TIMEOUT_MS)',
            ),
            '413': errorResponse('A file is over MAX_UPLOAD_BYTES'),
            '415': errorResponse('No file is an image or video (sniffed from the bytes)'),
            '429': errorResponse(
              "Rate or in-flight limit reached, counting this request's files (see Retry-After)",
            ),
            '503': errorResponse(
              'The job queue (Redis) is unavailable, or the server is shutting down (see Retry-After)',
            ),
          },
        },
      },
      '/v1/results/': {
        post: {
          summary: 'Poll a conversion',
          requestBody: {
            content: {
              'application/x-www-form-urlencoded': {
                schema: { type: 'object', properties: { uuid: { type: 'string' } } },
              },
              'multipart/form-data': {
                schema: { type: 'object', properties: { uuid: { type: 'string' } } },
              },
              'application/json': {
                schema: { type: 'object', properties: { uuid: { type: 'string' } } },
              },
            },
          },
          responses: {
            '200': {
              description: 'State',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/Results' } } },
            },
            '404': errorResponse('Unknown or expired uuid (or not one /v1/convert/ issued)'),
            '503': errorResponse('The job queue (Redis) is unavailable (see Retry-After)'),
          },
        },
      },
      '/v1/files/{jobId}/{filename}': {
        get: {
          summary: 'Download a result (supports Range)',
          parameters: [
            { name: 'jobId', in: 'path', required: true, schema: { type: 'string' } },
            { name: 'filename', in: 'path', required: true, schema: { type: 'string' } },
          ],
          responses: {
            '200': { description: 'The file' },
            '206': { description: 'A byte range' },
            '404': errorResponse('Unknown or expired'),
          },
        },
      },
      '/v1/form-schema': {
        get: {
          summary:
            "The web page's settings: each parameter's control, default and range (from the same schemas), the installed models, and the page's key when WEB_PAGE_API_KEY is set",
          responses: { '200': { description: 'The form description' } },
        },
      },
      '/': {
        get: {
          summary: 'The web page: drop pictures and videos, watch them go through, download',
          responses: { '200': { description: 'HTML' }, '304': { description: 'Not modified' } },
        },
      },
      '/healthz': {
        get: {
          summary: 'Liveness and Redis reachability',
          responses: { '200': { description: 'ok' } },
        },
      },
    },
  };
}

/** A small self-contained docs page (no CDN): the parameters tables and links. */
export function renderDocsPage(document: Record<string, unknown>): string {
  const schemas = (document.components as { schemas: Record<string, JsonSchema> }).schemas;
  const table = (name: string) => {
    const rows = Object.entries(schemas[name]?.properties ?? {})
      .map(([field, raw]) => {
        const schema = raw as Record<string, unknown>;
        const allowed = schema.enum
          ? (schema.enum as unknown[]).join(', ')
          : schema.minimum !== undefined
            ? `${schema.minimum}–${schema.maximum}`
            : String(schema.type ?? schema.format ?? '');
        const fallback = schema.default === undefined ? '' : String(schema.default);
        return `<tr><td><code>${field}</code></td><td>${escapeHtml(allowed)}</td><td>${escapeHtml(fallback)}</td><td>${escapeHtml(String(schema.description ?? ''))}</td></tr>`;
      })
      .join('');
    return `<table><tr><th>field</th><th>allowed</th><th>default</th><th>notes</th></tr>${rows}</table>`;
  };
  return `<!doctype html><html><head><meta charset="utf-8"><title>bgremover API</title>
<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}</style></head>
<body><h1>bgremover API</h1>
<p>POST <code>/v1/convert/</code> (multipart, <code>Authorization: &lt;api key&gt;</code>) answers <code>{"uuid"}</code>; POST <code>/v1/results/</code> with <code>uuid</code> answers the files, failures and queue position; download from the listed URLs. Machine-readable: <a href="/openapi.json">/openapi.json</a>.</p>
<h2>Image parameters (convert_to=image-backgroundremover)</h2>${table('ImageParams')}
<h2>Video parameters (convert_to=video-backgroundremover)</h2>${table('VideoParams')}
</body></html>`;
}

function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"]/g,
    (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[char] ?? char,
  );
}
