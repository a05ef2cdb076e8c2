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
  CatalogSync = 'catalog-sync',
  InboundEvents = 'inbound-events',
}

/** Human-readable queue names (dashboards). */
export const QUEUE_LABELS: Record<QueueName, string> = {
  [QueueName.Maintenance]: 'Maintenance (outbox pruning)',
  [QueueName.CatalogSync]: 'Catalog sync (store imports and reconciliation)',
  [QueueName.InboundEvents]: 'Inbound store webhooks (apply to the catalog)',
};

export interface JobPayloads {
  'maintenance.prune-outbox': { olderThanDays: number };
  /** Full catalog import of a store connection; resumes from the connection's cursor. */
  'catalog.import': { storeConnectionId: string };
  /** Changes since the connection's watermark, through the same apply code as webhooks. */
  'catalog.reconcile': { storeConnectionId: string };
  /** Periodic: one catalog.reconcile per linked connection. */
  'catalog.reconcile-all': { trigger: string };
  /** Applies pending inbound store events (all of them, in batches). */
  'catalog.apply-inbound': { trigger: string };
  /** Deletes applied inbound events past the dedupe window. */
  'catalog.prune-inbound': { olderThanDays: number };
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

// `satisfies` (not a type annotation) keeps each job's queue as a literal, for JobsIn<Q>.
export const JOBS = {
  'maintenance.prune-outbox': {
    queue: QueueName.Maintenance,
    options: { ...DEFAULT_OPTIONS, attempts: 3 },
    parse: (data) => ({ olderThanDays: payload.int(payload.obj(data), 'olderThanDays', 1, 3650) }),
  },
  'catalog.import': {
    queue: QueueName.CatalogSync,
    // Rate limits and store outages are waited out inside the job; these are for crashes.
    options: { ...DEFAULT_OPTIONS, attempts: 8, backoff: { type: 'exponential', delay: 2000 } },
    parse: (data) => ({ storeConnectionId: payload.uuid(payload.obj(data), 'storeConnectionId') }),
  },
  'catalog.reconcile': {
    queue: QueueName.CatalogSync,
    options: { ...DEFAULT_OPTIONS, attempts: 3 },
    parse: (data) => ({ storeConnectionId: payload.uuid(payload.obj(data), 'storeConnectionId') }),
  },
  'catalog.reconcile-all': {
    queue: QueueName.CatalogSync,
    options: { ...DEFAULT_OPTIONS, attempts: 1 },
    parse: (data) => ({ trigger: payload.string(payload.obj(data), 'trigger') }),
  },
  'catalog.apply-inbound': {
    queue: QueueName.InboundEvents,
    options: {
      ...DEFAULT_OPTIONS,
      attempts: 3,
      removeOnComplete: { age: 3600, count: 100 },
      removeOnFail: { age: 24 * 3600, count: 1000 },
    },
    parse: (data) => ({ trigger: payload.string(payload.obj(data), 'trigger') }),
  },
  'catalog.prune-inbound': {
    queue: QueueName.InboundEvents,
    options: { ...DEFAULT_OPTIONS, attempts: 3 },
    parse: (data) => ({ olderThanDays: payload.int(payload.obj(data), 'olderThanDays', 1, 3650) }),
  },
} satisfies { [N in JobName]: JobDefinition<N> };

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
