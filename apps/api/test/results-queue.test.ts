import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postForm, type Stack, startStack } from './api-harness.js';

// No worker: jobs stay queued until the test marks one started, as a worker does.
let stack: Stack;
let photo: Buffer;

beforeAll(async () => {
  stack = await startStack({}, false);
  photo = await sharp({
    create: { width: 32, height: 32, channels: 3, background: '#3a6' },
  })
    .png()
    .toBuffer();
});
afterAll(() => stack.close());

async function convert(count: number): Promise<string> {
  const files = Array.from(
    { length: count },
    (_, index) => ['files', `p${index}.png`, photo] as [string, string, Buffer],
  );
  const { status, body } = await postForm(
    `${stack.baseUrl}/v1/convert/`,
    { convert_to: 'image-backgroundremover' },
    files,
  );
  expect(status).toBe(200);
  return body.uuid as string;
}

async function results(uuid: string): Promise<{ queue_count: number; finished: boolean }> {
  const response = await fetch(`${stack.baseUrl}/v1/results/`, {
    method: 'POST',
    body: new URLSearchParams({ uuid }),
  });
  return (await response.json()) as { queue_count: number; finished: boolean };
}

describe('/v1/results/ queue_count', () => {
  it('counts the jobs ahead of a request, and none once a worker has started one of its files', async () => {
    await convert(1);
    const later = await convert(2);
    // The earlier request's job is ahead of the later one's two.
    expect(await results(later)).toMatchObject({ queue_count: 1, finished: false });

    await stack.api.context.requests.markStarted(later, 1);
    expect(await results(later)).toMatchObject({ queue_count: 0, finished: false });
  });
});
