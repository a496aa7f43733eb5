import { randomUUID } from 'node:crypto';

/** A queue (or key) name no other test or run uses: `prefix-` and eight hex digits. */
export function freshQueueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}
