import type { JobsOptions } from 'bullmq';
import { payload } from './payload';

/**
 * The one registry of queues and jobs. Adding a job means: a name and payload type in
 * JobPayloads, its queue and options in JOBS, and a handler in that queue's processor
 * (the compiler insists on the handler; the worker refuses to start without a processor).
 * Payloads carry row ids, never secrets.
 */
export enum QueueName {
  Maintenance = 'maintenance',
}

/** Human-readable queue names (dashboards). */
export const QUEUE_LABELS: Record<QueueName, string> = {
  [QueueName.Maintenance]: 'Maintenance (outbox pruning)',
};

export interface JobPayloads {
  'maintenance.prune-outbox': { olderThanDays: number };
}

export type JobName = keyof JobPayloads;

export interface JobDefinition<N extends JobName> {
  queue: QueueName;
  options: JobsOptions;
  parse(data: unknown): JobPayloads[N];
}

const DEFAULT_OPTIONS: JobsOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: { age: 24 * 3600, count: 1000 },
  removeOnFail: { age: 7 * 24 * 3600 },
};

export const JOBS: { [N in JobName]: JobDefinition<N> } = {
  'maintenance.prune-outbox': {
    queue: QueueName.Maintenance,
    options: { ...DEFAULT_OPTIONS, attempts: 3 },
    parse: (data) => ({ olderThanDays: payload.int(payload.obj(data), 'olderThanDays', 1, 3650) }),
  },
};

/** Job names that run on queue Q, as a type. */
export type JobsIn<Q extends QueueName> = {
  [N in JobName]: (typeof JOBS)[N]['queue'] extends Q ? N : never;
}[JobName];

export function jobsOf(queue: QueueName): JobName[] {
  return (Object.keys(JOBS) as JobName[]).filter((n) => JOBS[n].queue === queue);
}

export function isJobName(name: string): name is JobName {
  return Object.prototype.hasOwnProperty.call(JOBS, name);
}
