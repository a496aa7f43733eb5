import { createHmac } from 'node:crypto';

/** Slack's request signature: `v0=HMAC_SHA256(secret, "v0:" + timestamp + ":" + body)`. */
export function slackSignature(secret: string, timestamp: number, body: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

/** Posts `body` to the app as Slack would: signed, with the given content type and headers. */
export function postSigned(
  url: string,
  secret: string,
  body: string,
  contentType: string,
  headers: Record<string, string> = {},
): Promise<Response> {
  const timestamp = Math.floor(Date.now() / 1000);
  return fetch(url, {
    method: 'POST',
    headers: {
      'content-type': contentType,
      'x-slack-request-timestamp': String(timestamp),
      'x-slack-signature': slackSignature(secret, timestamp, body),
      ...headers,
    },
    body,
  });
}

/** An interactivity payload (shortcut, view submission) as Slack posts it: `payload=<json>`. */
export function interactivityBody(payload: unknown): string {
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

/** A slash command as Slack posts it (form fields). */
export function commandBody(fields: Record<string, string>): string {
  return new URLSearchParams(fields).toString();
}

export const FORM = 'application/x-www-form-urlencoded';
export const JSON_TYPE = 'application/json';
