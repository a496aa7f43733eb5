import { createHash } from 'node:crypto';
import { appKey } from '@bgremover/jobs';
import { type REST, Routes } from 'discord.js';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { fitMessage } from './delivery-text.js';

/** The parts of an interaction that its deferred reply is edited with. */
export interface InteractionRef {
  applicationId: string;
  token: string;
  /** Milliseconds since the epoch after which the token no longer works. */
  expiresAt?: number | undefined;
}

/** The interaction's token is not used within this long of its expiry. */
export const TOKEN_EXPIRY_MARGIN_MS = 60_000;

/** True while the interaction's token may still be used. */
export function tokenUsable(ref: InteractionRef | undefined, now = Date.now()): boolean {
  if (!ref) return false;
  return ref.expiresAt === undefined || now < ref.expiresAt - TOKEN_EXPIRY_MARGIN_MS;
}

/**
 * The one owner of an interaction's deferred reply. Its text is made of lines kept in Redis
 * (the request's summary, then one status line per file, in key order); whoever changes a line
 * (the bot after queueing, the delivery side for progress, results and failures) writes it there
 * and asks for an edit. Edits of one reply are sent one at a time, each showing every line as it
 * is when the edit is sent, so an edit can never bring back an older text: the last edit always
 * shows the newest state, whichever part of the app changed it last.
 */
export class OriginalReply {
  private readonly flushing = new Map<string, { again: boolean; done: Promise<void> }>();

  constructor(
    private readonly rest: REST,
    private readonly redis: Redis,
    /** Key namespace (the queue name). */
    private readonly prefix: string,
    private readonly logger: Logger,
  ) {}

  /**
   * Sets lines of the reply (key -> text; keys sort the lines, e.g. `a:summary`, `f:<job>`), then
   * edits the reply; resolves once an edit showing these lines was sent (or failed: logged).
   */
  async set(ref: InteractionRef, lines: Record<string, string>): Promise<void> {
    if (!tokenUsable(ref)) return;
    const key = this.key(ref.token);
    // Kept as long as the token works.
    await this.redis
      .multi()
      .hset(key, lines)
      .expire(key, 16 * 60)
      .exec();
    await this.flush(ref);
  }

  private flush(ref: InteractionRef): Promise<void> {
    const running = this.flushing.get(ref.token);
    if (running) {
      running.again = true;
      return running.done;
    }
    const state = { again: false, done: Promise.resolve() };
    state.done = (async () => {
      try {
        do {
          state.again = false;
          await this.editOnce(ref).catch((error: Error) =>
            this.logger.info({ err: error }, 'could not edit the deferred reply'),
          );
        } while (state.again);
      } finally {
        this.flushing.delete(ref.token);
      }
    })();
    this.flushing.set(ref.token, state);
    return state.done;
  }

  private async editOnce(ref: InteractionRef): Promise<void> {
    if (!tokenUsable(ref)) return;
    const lines = await this.redis.hgetall(this.key(ref.token));
    const content = Object.keys(lines)
      .sort()
      .map((key) => lines[key])
      .filter(Boolean)
      .join('\n');
    if (!content) return;
    await this.rest.patch(Routes.webhookMessage(ref.applicationId, ref.token, '@original'), {
      body: { content: fitMessage(content), allowed_mentions: { parse: [] } },
      auth: false,
    });
  }

  private key(token: string): string {
    const digest = createHash('sha256').update(token).digest('hex').slice(0, 32);
    return appKey(this.prefix, 'discord', 'reply', digest);
  }
}
