import type { Redis } from 'ioredis';
import { appKey } from './redis-keys.js';

/** How one file of an API request stands. */
export type ApiFileState =
  | {
      state: 'queued';
      filename: string;
      jobId: string;
      /** A worker has taken the file's job (set at read time from the request's `started:` marks). */
      started?: boolean;
    }
  | {
      state: 'done';
      filename: string;
      jobId: string;
      resultKey: string;
      resultFilename: string;
      contentType: string;
      /** Things the person should know (a substitute model ran, an option not applied...). */
      warnings?: string[];
    }
  | { state: 'failed'; filename: string; jobId: string; error: string };

/** An API request (one `POST /v1/convert/`) and its files, in upload order. */
export interface ApiRequestRecord {
  requestId: string;
  apiKeyId: string;
  createdAt: number;
  files: ApiFileState[];
  /** True when every file is done or failed. */
  finished: boolean;
}

/**
 * The state of API requests, kept in Redis (small JSON per file, never bytes) so that any API
 * server can answer `/v1/results/` for a request any other accepted, and any worker can mark a
 * file done. Records expire with the results.
 */
/**
 * Counts a key's files in progress: drops lapsed entries (score = expiry) and entries whose
 * request record is gone, then returns how many remain. KEYS[1] the set, ARGV[1] now (ms),
 * ARGV[2] the record key prefix. Bounded by the per-key in-flight limit in practice.
 */
const INFLIGHT_SCRIPT = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local members = redis.call('ZRANGE', KEYS[1], 0, -1)
for _, member in ipairs(members) do
  local requestId = string.match(member, '^(.*)#%d+$')
  if requestId == nil or redis.call('EXISTS', ARGV[2] .. requestId) == 0 then
    redis.call('ZREM', KEYS[1], member)
  end
end
return redis.call('ZCARD', KEYS[1])
`;

export class ApiRequestStore {
  constructor(
    private readonly redis: Redis,
    private readonly ttlMs: number,
    /** The conversion queue the requests' jobs go to: their keys are namespaced by it. */
    private readonly queueName: string,
  ) {}

  private key(requestId: string): string {
    return appKey(this.queueName, 'request', requestId);
  }

  /**
   * The key's files in progress: a sorted set of `<request>#<file>` scored by when each entry
   * expires, so an entry that is never taken out (an API killed mid-request) lapses on its own
   * instead of holding the count up forever.
   */
  private inflightKey(apiKeyId: string): string {
    return appKey(this.queueName, 'inflight-files', apiKeyId);
  }

  /**
   * How many files of this API key are queued or running (for per-key concurrency limits).
   * Entries that have lapsed, and entries whose request record does not exist (an admission that
   * failed half-way), are dropped first.
   */
  async inflight(apiKeyId: string): Promise<number> {
    const count = await this.redis.eval(
      INFLIGHT_SCRIPT,
      1,
      this.inflightKey(apiKeyId),
      String(Date.now()),
      this.key(''),
    );
    return Number(count);
  }

  /**
   * Undoes `create` for a request whose jobs could not all be enqueued: removes its record and
   * its files from the key's count. The caller removes the jobs and uploads it did add.
   */
  async abandon(requestId: string, apiKeyId: string, fileCount: number): Promise<void> {
    const members = Array.from({ length: fileCount }, (_, index) => `${requestId}#${index}`);
    const transaction = this.redis.multi().del(this.key(requestId));
    if (members.length > 0) transaction.zrem(this.inflightKey(apiKeyId), ...members);
    await transaction.exec();
  }

  /**
   * Records a new request. Files with a `jobId` start queued; files refused at upload (with an
   * `error`) start failed and never count as in flight.
   */
  async create(
    requestId: string,
    apiKeyId: string,
    files: readonly ({ filename: string; jobId: string } | { filename: string; error: string })[],
  ): Promise<void> {
    const key = this.key(requestId);
    const fields: Record<string, string> = {
      meta: JSON.stringify({ apiKeyId, createdAt: Date.now(), count: files.length }),
    };
    const expiresAt = Date.now() + this.ttlMs;
    const inflight: (string | number)[] = [];
    files.forEach((file, index) => {
      const state: ApiFileState =
        'error' in file
          ? { state: 'failed', filename: file.filename, jobId: '', error: file.error }
          : { state: 'queued', filename: file.filename, jobId: file.jobId };
      if (state.state === 'queued') inflight.push(expiresAt, `${requestId}#${index}`);
      fields[`file:${index}`] = JSON.stringify(state);
    });
    const transaction = this.redis.multi().hset(key, fields).pexpire(key, this.ttlMs);
    if (inflight.length > 0) {
      transaction
        .zadd(this.inflightKey(apiKeyId), ...inflight)
        .pexpire(this.inflightKey(apiKeyId), this.ttlMs);
    }
    await transaction.exec();
  }

  /**
   * Notes that a worker has started one file's job, so `/v1/results/` can say nothing is ahead
   * of the request without asking the queue. Kept beside the file's state rather than in it, so
   * a late mark can never overwrite the file's result; does nothing once the record has expired.
   */
  async markStarted(requestId: string, fileIndex: number): Promise<void> {
    await this.redis.eval(
      "if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end",
      1,
      this.key(requestId),
      `started:${fileIndex}`,
      String(Date.now()),
    );
  }

  /** Marks one file done with its result (idempotent: a repeat overwrites with the same). */
  async markDone(
    requestId: string,
    fileIndex: number,
    result: { resultKey: string; resultFilename: string; contentType: string; warnings?: string[] },
  ): Promise<void> {
    await this.update(requestId, fileIndex, (file) => ({
      state: 'done',
      filename: file.filename,
      jobId: file.jobId,
      ...result,
    }));
  }

  /** Marks one file failed with the message a person can act on. */
  async markFailed(requestId: string, fileIndex: number, error: string): Promise<void> {
    await this.update(requestId, fileIndex, (file) => ({
      state: 'failed',
      filename: file.filename,
      jobId: file.jobId,
      error,
    }));
  }

  /** The request and its files, or undefined when unknown or expired. */
  async get(requestId: string): Promise<ApiRequestRecord | undefined> {
    const fields = await this.redis.hgetall(this.key(requestId));
    if (!fields.meta) return undefined;
    const meta = JSON.parse(fields.meta) as { apiKeyId: string; createdAt: number; count: number };
    const files: ApiFileState[] = [];
    for (let index = 0; index < meta.count; index++) {
      const text = fields[`file:${index}`];
      if (!text) continue;
      const file = JSON.parse(text) as ApiFileState;
      if (file.state === 'queued' && fields[`started:${index}`]) file.started = true;
      files.push(file);
    }
    return {
      requestId,
      apiKeyId: meta.apiKeyId,
      createdAt: meta.createdAt,
      files,
      finished: files.every((file) => file.state !== 'queued'),
    };
  }

  private async update(
    requestId: string,
    fileIndex: number,
    change: (file: ApiFileState) => ApiFileState,
  ): Promise<void> {
    const key = this.key(requestId);
    const [text, metaText] = await this.redis.hmget(key, `file:${fileIndex}`, 'meta');
    if (!text || !metaText) throw new Error(`Unknown API request file ${requestId}#${fileIndex}`);
    const previous = JSON.parse(text) as ApiFileState;
    const transaction = this.redis
      .multi()
      .hset(key, `file:${fileIndex}`, JSON.stringify(change(previous)));
    if (previous.state === 'queued') {
      const { apiKeyId } = JSON.parse(metaText) as { apiKeyId: string };
      transaction.zrem(this.inflightKey(apiKeyId), `${requestId}#${fileIndex}`);
    }
    await transaction.exec();
  }

  /** Closes the Redis connection. */
  async close(): Promise<void> {
    await this.redis.quit();
  }
}
