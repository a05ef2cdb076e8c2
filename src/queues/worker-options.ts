import { MetricsTime, type WorkerOptions } from 'bullmq';

/** Worker options a processor may set (the connection and prefix come from QueuesModule). */
export type ProcessorWorkerOptions = Omit<WorkerOptions, 'connection' | 'prefix'>;

/**
 * Options of every BullMQ worker. Every processor must be declared with
 * `@Processor(QueueName.X, workerOptions())` so that all workers behave alike:
 * BullMQ metrics are recorded (one data point a minute, a week kept), which is what the
 * throughput graphs of the queue dashboard (/admin/queues) read.
 */
export function workerOptions(overrides: ProcessorWorkerOptions = {}): ProcessorWorkerOptions {
  return { metrics: { maxDataPoints: MetricsTime.ONE_WEEK }, ...overrides };
}
