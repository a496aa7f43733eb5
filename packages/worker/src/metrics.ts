/** Counters and timings one worker process keeps for `/metrics`. */
export class WorkerMetrics {
  completed = 0;
  failed = 0;
  retried = 0;
  active = 0;
  private durationSumSeconds = 0;
  private durationCount = 0;
  private readonly buckets = [0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900];
  private readonly bucketCounts = new Array<number>(this.buckets.length).fill(0);

  /** Records one finished job's processing time. */
  observeDuration(seconds: number): void {
    this.durationSumSeconds += seconds;
    this.durationCount++;
    this.buckets.forEach((bound, index) => {
      if (seconds <= bound) this.bucketCounts[index]!++;
    });
  }

  /**
   * Renders Prometheus text: this worker's counters, its job-duration histogram and the queue's
   * depth by state (passed in, read from Redis at scrape time).
   */
  render(workerId: string, queueCounts: Record<string, number>): string {
    const label = `worker="${workerId.replace(/"/g, '')}"`;
    const lines = [
      '# HELP bgremover_queue_jobs Jobs in the conversion queue by state.',
      '# TYPE bgremover_queue_jobs gauge',
      ...Object.entries(queueCounts).map(
        ([state, count]) => `bgremover_queue_jobs{state="${state}"} ${count}`,
      ),
      '# HELP bgremover_jobs_completed_total Jobs this worker completed.',
      '# TYPE bgremover_jobs_completed_total counter',
      `bgremover_jobs_completed_total{${label}} ${this.completed}`,
      '# HELP bgremover_jobs_failed_total Jobs that failed for good on this worker.',
      '# TYPE bgremover_jobs_failed_total counter',
      `bgremover_jobs_failed_total{${label}} ${this.failed}`,
      '# HELP bgremover_jobs_retried_total Attempts that failed and will be retried.',
      '# TYPE bgremover_jobs_retried_total counter',
      `bgremover_jobs_retried_total{${label}} ${this.retried}`,
      '# HELP bgremover_jobs_active Jobs this worker is running now.',
      '# TYPE bgremover_jobs_active gauge',
      `bgremover_jobs_active{${label}} ${this.active}`,
      '# HELP bgremover_job_duration_seconds Processing time of completed jobs.',
      '# TYPE bgremover_job_duration_seconds histogram',
      ...this.buckets.map(
        (bound, index) =>
          `bgremover_job_duration_seconds_bucket{${label},le="${bound}"} ${this.bucketCounts[index]}`,
      ),
      `bgremover_job_duration_seconds_bucket{${label},le="+Inf"} ${this.durationCount}`,
      `bgremover_job_duration_seconds_sum{${label}} ${this.durationSumSeconds.toFixed(3)}`,
      `bgremover_job_duration_seconds_count{${label}} ${this.durationCount}`,
    ];
    return `${lines.join('\n')}\n`;
  }
}
