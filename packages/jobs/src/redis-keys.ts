/**
 * The name of one of our keys in Redis: `bgremover:<conversion queue>:<parts>`. Every piece of
 * state the services keep beside BullMQ (API requests, delivery markers, rate limits, chat
 * claims and messages) is named here, namespaced by the conversion queue, so stacks on different
 * queues of one Redis (tests, staging beside production) never share or clobber it.
 */
export function appKey(queueName: string, ...parts: readonly (string | number)[]): string {
  return ['bgremover', queueName, ...parts].join(':');
}
