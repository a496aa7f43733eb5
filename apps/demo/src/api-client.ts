/**
 * The demo's client of the HTTP API, speaking the protocol as any client would: a multipart
 * `POST /v1/convert/`, then `POST /v1/results/` with the request's uuid.
 */

/** What the demo reads of a `/v1/results/` answer. */
export interface Results {
  files: { url: string; filename: string }[];
  errors: string[];
  warnings: string[];
  finished: boolean;
  queue_count: number;
}

/** Sends one file with `fields` through `POST /v1/convert/` and returns the request's uuid. */
export async function convertFile(
  baseUrl: string,
  apiKey: string,
  fields: Record<string, string>,
  bytes: Uint8Array,
  name: string,
): Promise<string> {
  const form = new FormData();
  for (const [key, value] of Object.entries(fields)) form.append(key, value);
  form.append('files', new Blob([bytes]), name);
  const response = await fetch(`${baseUrl}/v1/convert/`, {
    method: 'POST',
    body: form,
    headers: { authorization: apiKey },
  });
  const body = (await response.json()) as { uuid?: string; error?: string };
  if (!body.uuid) throw new Error(`convert refused ${name}: ${body.error}`);
  return body.uuid;
}

/** One `POST /v1/results/` for `uuid`. */
export async function fetchResults(baseUrl: string, uuid: string): Promise<Results> {
  const response = await fetch(`${baseUrl}/v1/results/`, {
    method: 'POST',
    body: new URLSearchParams({ uuid }),
  });
  return (await response.json()) as Results;
}

/** Asks `/v1/results/` every half second until the request is finished. */
export async function pollResults(baseUrl: string, uuid: string): Promise<Results> {
  for (;;) {
    const body = await fetchResults(baseUrl, uuid);
    if (body.finished) return body;
    await new Promise((resolveTimer) => setTimeout(resolveTimer, 500));
  }
}
