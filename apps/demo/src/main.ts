#!/usr/bin/env node
/**
 * The demo: starts the local stack on embedded defaults (Redis, the API, one worker), sends the
 * bundled sample photo and a generated clip through `/v1/convert/` exactly as a client would,
 * polls `/v1/results/`, downloads the results into ./out and says what it did. It prints the
 * web page's address; with `--serve` it then leaves the stack running until Ctrl-C, so the page
 * can be tried in a browser.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { buildApiServer, loadApiConfig } from '@bgremover/api';
import { loadWorkerConfig, startConversionWorker } from '@bgremover/worker';
import { convertFile, pollResults } from './api-client.js';
import { ensureRedis, freePort } from './redis.js';

const execFileAsync = promisify(execFile);
const say = (line: string) => process.stdout.write(`${line}\n`);
const fixtures = fileURLToPath(new URL('../../../fixtures/images/', import.meta.url));
const outDir = resolve(process.env.DEMO_OUT ?? 'out');
const API_KEY = 'demo-key';
const serve = process.argv.slice(2).includes('--serve');

/** Resolves on the first Ctrl-C (SIGINT) or SIGTERM. */
function untilInterrupted(): Promise<void> {
  return new Promise((resolveSignal) => {
    process.once('SIGINT', () => resolveSignal());
    process.once('SIGTERM', () => resolveSignal());
  });
}

async function makeClip(dir: string): Promise<string> {
  const clip = join(dir, 'clip.mp4');
  // The astronaut photo (scaled down) sliding across a noisy background, 2 s with a tone.
  // Each option beside its value: the inputs (noise, the photo, a tone), the graph, the codecs.
  const background = 'color=c=0x4a6a4a:size=320x240:rate=12:duration=2,noise=alls=30:allf=t';
  const slide = '[1:v]scale=140:-1[fg];[0:v][fg]overlay=x=10+t*70:y=(H-h)/2[v]';
  await execFileAsync('ffmpeg', [
    ...['-v', 'error', '-y'],
    ...['-f', 'lavfi', '-i', background],
    ...['-i', join(fixtures, 'astronaut.png')],
    ...['-f', 'lavfi', '-i', 'sine=frequency=440:duration=2'],
    ...['-filter_complex', slide, '-map', '[v]', '-map', '2:a'],
    ...['-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', clip],
  ]);
  return clip;
}

/** Sends the file at `file` as `name` with `fields`, using the demo key. */
async function submit(
  baseUrl: string,
  fields: Record<string, string>,
  file: string,
  name: string,
): Promise<string> {
  return convertFile(baseUrl, API_KEY, fields, await readFile(file), name);
}

async function main(): Promise<number> {
  const scratch = await mkdtemp(join(tmpdir(), 'bgremover-demo-'));
  const redis = await ensureRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  say(redis.started ? `Started redis-server at ${redis.url}` : `Using the Redis at ${redis.url}`);
  const port = process.env.API_PORT ? Number(process.env.API_PORT) : await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    REDIS_URL: redis.url,
    QUEUE_NAME: `demo-${Date.now()}`,
    STORAGE_DIR: join(scratch, 'storage'),
    API_KEYS: `demo=${API_KEY}`,
    API_HOST: '127.0.0.1',
    API_PORT: String(port),
    HEALTH_PORT: '0',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    // The demo listens on loopback only, so its page may carry the demo key for the person.
    WEB_PAGE_API_KEY: API_KEY,
  };
  const api = await buildApiServer(loadApiConfig(env));
  const baseUrl = await api.app.listen({ host: '127.0.0.1', port });
  const worker = await startConversionWorker(loadWorkerConfig(env));
  say(
    `API listening at ${baseUrl} (docs at ${baseUrl}/docs); one worker on queue ${env.QUEUE_NAME}`,
  );
  say(`Web page at ${baseUrl}/ (drop pictures and videos on it; it uses the demo key ${API_KEY})`);
  let failures = 0;
  try {
    const clip = await makeClip(scratch);
    say('Made a 2-second test clip with ffmpeg (a photo sliding over noise, with a tone)');
    const imageUuid = await submit(
      baseUrl,
      { convert_to: 'image-backgroundremover' },
      join(fixtures, 'astronaut.png'),
      'astronaut.png',
    );
    say(`POST /v1/convert/ astronaut.png -> uuid ${imageUuid}`);
    const videoUuid = await submit(
      baseUrl,
      { convert_to: 'video-backgroundremover', video_format: 'webm' },
      clip,
      'clip.mp4',
    );
    say(`POST /v1/convert/ clip.mp4 (video_format=webm) -> uuid ${videoUuid}`);
    await mkdir(outDir, { recursive: true });
    for (const uuid of [imageUuid, videoUuid]) {
      const results = await pollResults(baseUrl, uuid);
      for (const error of results.errors) {
        failures++;
        say(`  failed: ${error}`);
      }
      for (const warning of results.warnings) say(`  note: ${warning}`);
      for (const file of results.files) {
        const download = await fetch(`${baseUrl}${file.url}`);
        const bytes = Buffer.from(await download.arrayBuffer());
        await writeFile(join(outDir, file.filename), bytes);
        say(
          `POST /v1/results/ ${uuid} finished; downloaded ${file.url} -> ${join(outDir, file.filename)} (${(bytes.length / 1024).toFixed(0)} KB)`,
        );
      }
    }
    if (serve) {
      say(`Serving: open ${baseUrl}/ in a browser; Ctrl-C stops the stack`);
      await untilInterrupted();
      say('Stopping');
    }
  } finally {
    await worker.close();
    await api.context.queue.obliterate({ force: true }).catch(() => undefined);
    await api.close();
    redis.stop();
    await rm(scratch, { recursive: true, force: true });
  }
  say(
    failures === 0
      ? `Done: results are in ${outDir}`
      : `Finished with ${failures} failure(s); see above`,
  );
  return failures === 0 ? 0 : 1;
}

process.exit(await main());
