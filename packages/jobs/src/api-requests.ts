import { Redis } from 'ioredis';

/** How one file of an API request stands. */
export type ApiFileState =
  | { state: 'queued'; filename: string; jobId: string }
  | {
      state: 'done';
      filename: string;
      jobId: string;
      resultKey: string;
      resultFilename: string;
      contentType: string;
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
export class ApiRequestStore {
  constructor(
    private readonly redis: Redis,
    private readonly ttlMs: number,
    private readonly keyPrefix = 'bgremover:request:',
  ) {}

  /** Opens a store on its own Redis connection. */
  static connect(redisUrl: string, ttlMs: number): ApiRequestStore {
    return new ApiRequestStore(new Redis(redisUrl, { maxRetriesPerRequest: 3 }), ttlMs);
  }

  private key(requestId: string): string {
    return `${this.keyPrefix}${requestId}`;
  }

  /** Records a new request whose files are all queued. */
  async create(
    requestId: string,
    apiKeyId: string,
    files: readonly { filename: string; jobId: string }[],
  ): Promise<void> {
    const key = this.key(requestId);
    const fields: Record<string, string> = {
      meta: JSON.stringify({ apiKeyId, createdAt: Date.now(), count: files.length }),
    };
    files.forEach((file, index) => {
      fields[`file:${index}`] = JSON.stringify({ state: 'queued', ...file } satisfies ApiFileState);
    });
    await this.redis.multi().hset(key, fields).pexpire(key, this.ttlMs).exec();
  }

  /** Marks one file done with its result (idempotent: a repeat overwrites with the same). */
  async markDone(
    requestId: string,
    fileIndex: number,
    result: { resultKey: string; resultFilename: string; contentType: string },
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
      if (text) files.push(JSON.parse(text) as ApiFileState);
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
    const text = await this.redis.hget(key, `file:${fileIndex}`);
    if (!text) throw new Error(`Unknown API request file ${requestId}#${fileIndex}`);
    await this.redis.hset(key, `file:${fileIndex}`, JSON.stringify(change(JSON.parse(text))));
  }

  /** Closes the Redis connection. */
  async close(): Promise<void> {
    await this.redis.quit();
  }
}
