/**
 * Per-job throttle for progress edits. The worker reports progress on every frame; Discord should
 * see an edit every few seconds at most, never two at once, and none after the job's final
 * message (an edit still in flight is awaited before the final one goes out).
 */
export class ProgressThrottle {
  private readonly jobs = new Map<
    string,
    { lastAt: number; inFlight: Promise<void> | undefined }
  >();
  private readonly finished = new Map<string, number>();

  constructor(private readonly intervalMs: number) {}

  /**
   * Runs `edit` for this job unless one ran less than the interval ago, one is still running,
   * or the job has finished. Errors from `edit` are left to the caller's promise.
   */
  async maybeRun(jobId: string, edit: () => Promise<void>, now = Date.now()): Promise<void> {
    if (this.finished.has(jobId)) return;
    const state = this.jobs.get(jobId) ?? { lastAt: 0, inFlight: undefined };
    if (state.inFlight || now - state.lastAt < this.intervalMs) return;
    state.lastAt = now;
    const running = edit().finally(() => {
      state.inFlight = undefined;
    });
    state.inFlight = running;
    this.jobs.set(jobId, state);
    await running;
  }

  /** Marks a job finished (no more progress edits) and waits for an edit still in flight. */
  async finish(jobId: string): Promise<void> {
    const state = this.jobs.get(jobId);
    this.jobs.delete(jobId);
    this.finished.set(jobId, Date.now());
    this.forgetOld();
    await state?.inFlight?.catch(() => undefined);
  }

  private forgetOld(): void {
    const cutoff = Date.now() - 3600_000;
    for (const [jobId, at] of this.finished) if (at < cutoff) this.finished.delete(jobId);
  }
}
