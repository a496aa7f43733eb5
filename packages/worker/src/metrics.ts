import type { Queue } from 'bullmq';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * One worker process's metrics for `/metrics`, kept with prom-client: jobs completed, failed for
 * good and retried, jobs running now, and a histogram of processing time. The queue's depth by
 * state is BullMQ's own export (`bullmq_job_count`), read from Redis at scrape time.
 */
export class WorkerMetrics {
  readonly registry = new Registry();
  private readonly completedCounter: Counter;
  private readonly failedCounter: Counter;
  private readonly retriedCounter: Counter;
  private readonly activeGauge: Gauge;
  private readonly duration: Histogram;

  constructor(workerId: string) {
    this.registry.setDefaultLabels({ worker: workerId });
    const registers = [this.registry];
    const counter = (name: string, help: string) => new Counter({ name, help, registers });
    this.completedCounter = counter(
      'bgremover_jobs_completed_total',
      'Jobs this worker completed.',
    );
    this.failedCounter = counter(
      'bgremover_jobs_failed_total',
      'Jobs that failed for good on this worker.',
    );
    this.retriedCounter = counter(
      'bgremover_jobs_retried_total',
      'Attempts that failed and will be retried.',
    );
    this.activeGauge = new Gauge({
      name: 'bgremover_jobs_active',
      help: 'Jobs this worker is running now.',
      registers,
    });
    this.duration = new Histogram({
      name: 'bgremover_job_duration_seconds',
      help: 'Processing time of completed jobs.',
      buckets: [0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900],
      registers,
    });
  }

  /** Counts a job starting (it is active until `jobEnded`). */
  jobStarted(): void {
    this.activeGauge.inc();
  }

  /** Counts a job's attempt ending, whatever its outcome. */
  jobEnded(): void {
    this.activeGauge.dec();
  }

  /** Records one completed job and its processing time. */
  completed(seconds: number): void {
    this.completedCounter.inc();
    this.duration.observe(seconds);
  }

  /** Records an attempt that failed: retried when BullMQ will try again, else failed for good. */
  failed(willRetry: boolean): void {
    if (willRetry) this.retriedCounter.inc();
    else this.failedCounter.inc();
  }

  /** Prometheus text: this worker's metrics, then the queue's depth by state from BullMQ. */
  async render(queue: Queue): Promise<string> {
    const own = await this.registry.metrics();
    const queueMetrics = await queue.exportPrometheusMetrics();
    return `${own}${queueMetrics}\n`;
  }

  /** The text's media type, for the Content-Type header. */
  get contentType(): string {
    return this.registry.contentType;
  }
}
