import { getQueueToken } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { JobsOptions, Queue } from 'bullmq';
import { JobDefinition, JOBS, JobName, JobPayloads, QueueName } from './queue-registry';

/** The one way code enqueues a job: typed payload, options from the registry. */
@Injectable()
export class JobQueue {
  constructor(private readonly moduleRef: ModuleRef) {}

  queue(name: QueueName): Queue {
    return this.moduleRef.get<Queue>(getQueueToken(name), { strict: false });
  }

  async add<N extends JobName>(
    name: N,
    data: JobPayloads[N],
    options: JobsOptions = {},
  ): Promise<string> {
    const def = JOBS[name] as unknown as JobDefinition<N>;
    // Validate on the way in as well as on the way out.
    def.parse(data);
    const deduplication = def.deduplication?.(data);
    const job = await this.queue(def.queue).add(name, data, {
      ...def.options,
      ...(deduplication ? { deduplication } : {}),
      ...options,
    });
    return job.id ?? '';
  }
}
