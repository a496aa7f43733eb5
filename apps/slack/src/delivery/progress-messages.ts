/** The Slack calls the progress message needs: post it once, then edit it. */
export interface ProgressMessageClient {
  post(channel: string, threadTs: string, text: string): Promise<string>;
  update(channel: string, ts: string, text: string): Promise<void>;
}

interface JobState {
  channel: string;
  threadTs: string;
  ts: string | undefined;
  lastShownAt: number;
  inFlight: Promise<void> | undefined;
  closed: boolean;
}

/**
 * One progress message per job, edited in place: the first update posts it (or edits a message
 * the producer already posted), later ones edit it at most every `intervalMs`, and an update that
 * arrives while the previous one is still being sent is dropped. `finish` waits for the update in
 * flight, stops further ones and returns the message's ts so the final text can replace it.
 */
export class ProgressMessages {
  private readonly jobs = new Map<string, JobState>();
  /** Jobs already finished (the latest few hundred), so a late update cannot post again. */
  private readonly finished = new Set<string>();

  constructor(
    private readonly client: ProgressMessageClient,
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Shows `text` for the job unless an update was shown too recently or is still in flight. */
  show(
    jobId: string,
    where: { channel: string; threadTs: string; existingTs?: string | undefined },
    text: string,
  ): Promise<void> {
    if (this.finished.has(jobId)) return Promise.resolve();
    let state = this.jobs.get(jobId);
    if (!state) {
      state = {
        channel: where.channel,
        threadTs: where.threadTs,
        ts: where.existingTs,
        lastShownAt: Number.NEGATIVE_INFINITY,
        inFlight: undefined,
        closed: false,
      };
      this.jobs.set(jobId, state);
    }
    if (state.closed || state.inFlight) return Promise.resolve();
    if (this.now() - state.lastShownAt < this.intervalMs) return Promise.resolve();
    state.lastShownAt = this.now();
    const current = state;
    current.inFlight = this.send(current, text).finally(() => {
      current.inFlight = undefined;
    });
    return current.inFlight;
  }

  /** True while the job has a progress message (or one is being posted). */
  has(jobId: string): boolean {
    return this.jobs.has(jobId);
  }

  /** Ends the job's progress: waits for the update in flight, returns the message ts if any. */
  async finish(jobId: string, existingTs?: string): Promise<string | undefined> {
    this.rememberFinished(jobId);
    const state = this.jobs.get(jobId);
    if (!state) return existingTs;
    state.closed = true;
    await state.inFlight?.catch(() => undefined);
    this.jobs.delete(jobId);
    return state.ts ?? existingTs;
  }

  private rememberFinished(jobId: string): void {
    this.finished.add(jobId);
    if (this.finished.size > 500) {
      const oldest = this.finished.values().next().value;
      if (oldest !== undefined) this.finished.delete(oldest);
    }
  }

  private async send(state: JobState, text: string): Promise<void> {
    if (state.ts) await this.client.update(state.channel, state.ts, text);
    else state.ts = await this.client.post(state.channel, state.threadTs, text);
  }
}
