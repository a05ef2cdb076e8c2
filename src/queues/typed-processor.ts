import { WorkerHost } from '@nestjs/bullmq';
import { Logger, OnModuleInit } from '@nestjs/common';
import { Job, UnrecoverableError } from 'bullmq';
import { isJobName, JOBS, JobName, JobPayloads, jobsOf, JobsIn, QueueName } from './queue-registry';

export type JobHandlers<Q extends QueueName> = {
  [N in JobsIn<Q>]: (data: JobPayloads[N], job: Job) => Promise<unknown>;
};

/** Queues that have a processor in this process (checked at worker start). */
export const PROCESSED_QUEUES = new Set<QueueName>();

/**
 * Base class of every BullMQ processor: routes a job to the handler of its name and
 * checks its payload as it comes off the queue.
 */
export abstract class TypedProcessor<Q extends QueueName>
  extends WorkerHost
  implements OnModuleInit
{
  protected abstract readonly queueName: Q;
  protected abstract readonly handlers: JobHandlers<Q>;
  protected readonly logger = new Logger(this.constructor.name);

  onModuleInit(): void {
    const missing = jobsOf(this.queueName).filter(
      (n) => typeof (this.handlers as Record<string, unknown>)[n] !== 'function',
    );
    if (missing.length) {
      throw new Error(
        `processor of queue "${this.queueName}" has no handler for: ${missing.join(', ')}`,
      );
    }
    PROCESSED_QUEUES.add(this.queueName);
  }

  async process(job: Job): Promise<unknown> {
    if (!isJobName(job.name) || JOBS[job.name].queue !== this.queueName) {
      throw new UnrecoverableError(`unknown job "${job.name}" on queue "${this.queueName}"`);
    }
    const name = job.name as JobName & JobsIn<Q>;
    const data = JOBS[name].parse(job.data);
    const handler = this.handlers[name] as (d: unknown, j: Job) => Promise<unknown>;
    return handler(data, job);
  }
}
