/**
 * What the queue layer reports about jobs. Implemented by ops' MetricsService; the token
 * keeps queues/ free of a dependency on ops/.
 */
export const JOB_METRICS = Symbol('JOB_METRICS');

export type JobOutcome = 'completed' | 'failed' | 'interrupted';

export interface JobMetrics {
  jobFinished(queue: string, job: string, outcome: JobOutcome, seconds: number): void;
}
