import type { FastifyReply, preHandlerAsyncHookHandler } from 'fastify';
import type { Redis } from 'ioredis';
import { errorBody } from './context.js';

/** What a client is told while Redis cannot be reached. */
export const QUEUE_UNAVAILABLE_MESSAGE =
  'Cannot take requests now: the job queue (Redis) is unavailable; retry in a few seconds';

/** Seconds a client is asked to wait (Retry-After) while the queue is unavailable. */
export const QUEUE_RETRY_AFTER_SECONDS = 5;

/**
 * Whether an error (or the connection's state) means Redis cannot be reached right now, as
 * opposed to a bug: the API's connections have no offline queue, so a command sent while
 * Redis is down fails at once with one of these.
 */
export function isQueueUnavailable(error: unknown, redis: Redis): boolean {
  if (redis.status !== 'ready') return true;
  const { name, message, code } = (error ?? {}) as {
    name?: string;
    message?: string;
    code?: string;
  };
  if (name === 'MaxRetriesPerRequestError') return true;
  if (code && ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT'].includes(code)) return true;
  return /enableOfflineQueue|Connection is closed|Stream isn't writeable|ECONNREFUSED/i.test(
    message ?? '',
  );
}

/** Answers 503 with Retry-After, naming the queue. */
export function replyQueueUnavailable(reply: FastifyReply): FastifyReply {
  return reply
    .code(503)
    .header('retry-after', String(QUEUE_RETRY_AFTER_SECONDS))
    .send(errorBody(QUEUE_UNAVAILABLE_MESSAGE));
}

/**
 * A `preHandler` hook that answers 503 (`replyQueueUnavailable`) while the Redis connection is
 * not ready, so a route never starts work the queue cannot take.
 */
export function requireQueueReady(redis: Redis): preHandlerAsyncHookHandler {
  return async (_request, reply) => {
    if (redis.status !== 'ready') return replyQueueUnavailable(reply);
  };
}
