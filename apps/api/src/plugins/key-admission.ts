/**
 * The checks a request that spends an API key's allowance passes before its body is read, as
 * fastify `preHandler` hooks for the routes registered in the same (encapsulated) scope: the key
 * (401), the job queue (503), the key's rate (429 with Retry-After) and its files in progress
 * (429). The admitted key is then on `request.admittedKey`.
 */
import type { FastifyInstance, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { authenticate } from '../api-keys.js';
import { type ApiContext, errorBody } from '../context.js';
import { requireQueueReady } from '../queue-unavailable.js';
import { takeRateLimitToken } from '../rate-limit.js';

/** The key a request was admitted with, and its files in progress when it arrived. */
export interface AdmittedKey {
  id: string;
  inflight: number;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the key-admission hooks on the routes that take a key; null elsewhere. */
    admittedKey: AdmittedKey | null;
  }
}

/**
 * Adds the key-admission hooks to `scope`: call it inside `app.register(async (scope) => ...)`
 * before registering the routes they guard, so they apply to those routes only.
 */
export function registerKeyAdmission(scope: FastifyInstance, context: ApiContext): void {
  scope.decorateRequest('admittedKey', null);
  scope.addHook('preHandler', requireApiKey(context));
  // Refused before the body is read: nothing is staged for a request the queue cannot take.
  scope.addHook('preHandler', requireQueueReady(context.redis));
  scope.addHook('preHandler', enforceKeyLimits(context));
}

/** The key the hooks admitted; throws when a route without them asks. */
export function admittedKeyOf(request: FastifyRequest): AdmittedKey {
  if (!request.admittedKey) throw new Error('this route is not behind the key-admission hooks');
  return request.admittedKey;
}

/** 401 without a known key in the Authorization header (a bare key, `Bearer` or `Token`). */
function requireApiKey(context: ApiContext): preHandlerAsyncHookHandler {
  return async (request, reply) => {
    const presented = request.headers.authorization;
    const id = authenticate(presented, context.config.apiKeys);
    if (!id) {
      return reply
        .code(401)
        .send(
          errorBody(
            presented ? 'Invalid API key' : 'Missing API key: send it in the Authorization header',
          ),
        );
    }
    request.admittedKey = { id, inflight: 0 };
  };
}

/**
 * Takes a token from the key's per-minute rate (API_KEY_RATE_LIMITS, else RATE_LIMIT_PER_MINUTE)
 * and counts its files in progress: 429 with Retry-After when either is used up.
 */
function enforceKeyLimits(context: ApiContext): preHandlerAsyncHookHandler {
  const { config } = context;
  return async (request, reply) => {
    const key = admittedKeyOf(request);
    const perMinute = config.rateLimitOverrides[key.id] ?? config.rateLimitPerMinute;
    // Both go out together on the one connection: one round trip to Redis, not two.
    const [limit, inflight] = await Promise.all([
      takeRateLimitToken(context.redis, context.config.jobs.queueName, key.id, perMinute),
      context.requests.inflight(key.id),
    ]);
    if (!limit.allowed) {
      return reply
        .code(429)
        .header('retry-after', String(limit.retryAfterSeconds))
        .send(
          errorBody(
            `Rate limit of ${perMinute} requests per minute reached; retry in ${limit.retryAfterSeconds} s`,
          ),
        );
    }
    if (inflight >= config.maxFilesInFlightPerKey) {
      return reply
        .code(429)
        .header('retry-after', '10')
        .send(
          errorBody(
            `This key already has ${inflight} files in progress (limit ${config.maxFilesInFlightPerKey}); retry when some finish`,
          ),
        );
    }
    key.inflight = inflight;
  };
}
