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
  Relays = 'relays',
}

/** Human-readable queue names (dashboards). */
export const QUEUE_LABELS: Record<QueueName, string> = {
  [QueueName.Maintenance]: 'Maintenance (outbox pruning)',
  [QueueName.Relays]: 'Relays (one long-running job per destination of a live session)',
};

export interface JobPayloads {
  'maintenance.prune-outbox': { olderThanDays: number };
  /** Runs one relay for as long as its session and destination live. */
  'relay.run': { relayId: string; generation: number };
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

export const JOBS = {
  'maintenance.prune-outbox': {
    queue: QueueName.Maintenance,
    options: { ...DEFAULT_OPTIONS, attempts: 3 },
    parse: (data) => ({ olderThanDays: payload.int(payload.obj(data), 'olderThanDays', 1, 3650) }),
  },
  'relay.run': {
    queue: QueueName.Relays,
    // The relay retries by itself (its own backoff and states); a job that dies with its
    // worker is taken over through BullMQ's stalled-job check, not by job attempts.
    options: { attempts: 1, removeOnComplete: true, removeOnFail: true },
    parse: (data) => {
      const o = payload.obj(data);
      return {
        relayId: payload.string(o, 'relayId'),
        generation: payload.int(o, 'generation', 1, 2 ** 31 - 1),
      };
    },
  },
} satisfies { [N in JobName]: JobDefinition<N> };

/** Job id of a relay run: one per (relay, generation), so enqueueing twice is a no-op. */
export function relayJobId(relayId: string, generation: number): string {
  return `relay-${relayId}-${generation}`;
}

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
