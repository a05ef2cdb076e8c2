import { DeduplicationOptions, JobsOptions, UnrecoverableError } from 'bullmq';
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
  Webhooks = 'webhooks',
  CatalogSync = 'catalog-sync',
  InboundEvents = 'inbound-events',
  Orders = 'orders',
  Privacy = 'privacy',
  Recordings = 'recordings',
}

/** Human-readable queue names (dashboards). */
export const QUEUE_LABELS: Record<QueueName, string> = {
  [QueueName.Maintenance]: 'Maintenance (outbox pruning)',
  [QueueName.Relays]: 'Relays (one long-running job per destination of a live session)',
  [QueueName.Webhooks]: 'Outbound webhook deliveries',
  [QueueName.CatalogSync]: 'Catalog sync (store imports and reconciliation)',
  [QueueName.InboundEvents]: 'Inbound store webhooks (apply to the catalog)',
  [QueueName.Orders]: "Orders (placed in the brand's store)",
  [QueueName.Privacy]: "Privacy (buyers' data retention, encryption key rotation)",
  [QueueName.Recordings]: 'Recordings (one long-running job per recorded session; retention)',
};

export interface JobPayloads {
  'maintenance.prune-outbox': { olderThanDays: number };
  /** Runs one relay for as long as its session and destination live. */
  'relay.run': { relayId: string; generation: number };
  /** One attempt run of one delivery (the row holds everything else; never the secret). */
  'webhooks.deliver': { deliveryId: string };
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
  /** Creates one pending order in its brand's store (looked up by tag first: never twice). */
  'orders.place': { orderId: string };
  /** Periodic: re-enqueues pending orders whose job was lost (crash between commit and enqueue). */
  'orders.sweep': { trigger: string };
  /** Periodic: erases buyers' data of orders final for longer than BUYER_DATA_RETENTION. */
  'privacy.erase-expired': { trigger: string };
  /** Periodic: Shopify's compliance requests → buyers' privacy requests (ComplianceBridge). */
  'privacy.compliance': { trigger: string };
  /** Re-seals every sealed column under the first key of ENCRYPTION_KEYS (resumable). */
  'keys.rotate': { trigger: string };
  /** Records one session for as long as it is live (taken over by another worker on a crash). */
  'recording.run': { sessionId: string };
  /** Periodic: deletes recordings older than RECORDING_RETENTION. */
  'recordings.prune': { trigger: string };
}

export type JobName = keyof JobPayloads;

export interface JobDefinition<N extends JobName> {
  queue: QueueName;
  options: JobsOptions;
  parse(data: unknown): JobPayloads[N];
  /** Jobs that must not run side by side (or twice) for the same subject. */
  deduplication?(data: JobPayloads[N]): DeduplicationOptions;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const DEFAULT_OPTIONS: JobsOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: { age: 24 * 3600, count: 1000 },
  removeOnFail: { age: 7 * 24 * 3600 },
};

/**
 * A periodic job of the privacy queue (`{trigger}` payload): one run at a time, since a
 * second one beside it would only find nothing left to do.
 */
function privacyJob(id: 'privacy.erase-expired' | 'privacy.compliance' | 'keys.rotate') {
  return {
    queue: QueueName.Privacy,
    options: {
      ...DEFAULT_OPTIONS,
      attempts: 3,
      removeOnComplete: { age: 24 * 3600, count: 100 },
      removeOnFail: { age: 7 * 24 * 3600, count: 1000 },
    },
    parse: (data: unknown) => ({ trigger: payload.string(payload.obj(data), 'trigger') }),
    deduplication: () => ({ id }),
  } as const;
}

// `satisfies` (not a type annotation) keeps each job's queue as a literal type, which
// JobsIn<Q> needs to tell the jobs of one queue from another's.
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
  'webhooks.deliver': {
    queue: QueueName.Webhooks,
    // The delivery decides when to stop (5 days, 410, disabled endpoint), so BullMQ's own
    // attempt limit is only a backstop; the delay of each retry comes from the
    // 'webhook' backoff strategy of the processor (backoff + jitter, Retry-After).
    options: {
      attempts: 200,
      backoff: { type: 'webhook' },
      removeOnComplete: { age: 24 * 3600, count: 10_000 },
      removeOnFail: { age: 7 * 24 * 3600 },
    },
    parse: (data) => {
      const deliveryId = payload.string(payload.obj(data), 'deliveryId');
      if (!UUID_RE.test(deliveryId)) {
        throw new UnrecoverableError('job payload field "deliveryId" must be a uuid');
      }
      return { deliveryId };
    },
  },
  'catalog.import': {
    queue: QueueName.CatalogSync,
    // Rate limits and store outages are waited out inside the job; these are for crashes.
    options: { ...DEFAULT_OPTIONS, attempts: 8, backoff: { type: 'exponential', delay: 2000 } },
    parse: (data) => ({ storeConnectionId: payload.uuid(payload.obj(data), 'storeConnectionId') }),
    // One import per connection until it finishes: two would both page through the store
    // and both add to sync.imported. Asking again meanwhile changes nothing.
    deduplication: ({ storeConnectionId }) => ({ id: `catalog.import:${storeConnectionId}` }),
  },
  'catalog.reconcile': {
    queue: QueueName.CatalogSync,
    options: { ...DEFAULT_OPTIONS, attempts: 3 },
    parse: (data) => ({ storeConnectionId: payload.uuid(payload.obj(data), 'storeConnectionId') }),
    // One reconciliation per connection at a time. Asked for while one waits: that one
    // covers it. Asked for while one runs: one more runs after it (it may have fetched
    // before the change it was asked for).
    deduplication: ({ storeConnectionId }) => ({
      id: `catalog.reconcile:${storeConnectionId}`,
      keepLastIfActive: true,
    }),
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
  'orders.place': {
    queue: QueueName.Orders,
    // A store that is down is waited out: many attempts, each delay chosen by the 'order'
    // backoff strategy of the processor (exponential + jitter, or the store's Retry-After).
    // Together well over a day; the last attempt marks the order failed.
    options: {
      attempts: 100,
      backoff: { type: 'order' },
      removeOnComplete: { age: 7 * 24 * 3600 },
      removeOnFail: { age: 30 * 24 * 3600 },
    },
    parse: (data) => ({ orderId: payload.uuid(payload.obj(data), 'orderId') }),
  },
  'orders.sweep': {
    queue: QueueName.Orders,
    options: {
      ...DEFAULT_OPTIONS,
      attempts: 1,
      removeOnComplete: { age: 3600, count: 100 },
      removeOnFail: { age: 24 * 3600, count: 1000 },
    },
    parse: (data) => ({ trigger: payload.string(payload.obj(data), 'trigger') }),
  },
  'privacy.erase-expired': privacyJob('privacy.erase-expired'),
  'privacy.compliance': privacyJob('privacy.compliance'),
  'keys.rotate': privacyJob('keys.rotate'),
  'recording.run': {
    queue: QueueName.Recordings,
    // Like a relay run: it lasts as long as its session; a worker that dies hands it over
    // through BullMQ's stalled-job check, and the resumer re-enqueues a lost one.
    options: { attempts: 1, removeOnComplete: true, removeOnFail: true },
    parse: (data) => ({ sessionId: payload.uuid(payload.obj(data), 'sessionId') }),
  },
  'recordings.prune': {
    queue: QueueName.Recordings,
    options: {
      ...DEFAULT_OPTIONS,
      attempts: 3,
      removeOnComplete: { age: 3600, count: 100 },
      removeOnFail: { age: 24 * 3600, count: 1000 },
    },
    parse: (data) => ({ trigger: payload.string(payload.obj(data), 'trigger') }),
  },
} satisfies { [N in JobName]: JobDefinition<N> };

/** Job id of a session's recording run: one at a time per session. */
export function recordingJobId(sessionId: string): string {
  return `recording-${sessionId}`;
}

/** BullMQ job id of an order's placement: one per order, so enqueueing twice is a no-op. */
export function orderJobId(orderId: string): string {
  return `order-${orderId}`;
}

/** Job id of a relay run: one per (relay, generation), so enqueueing twice is a no-op. */
export function relayJobId(relayId: string, generation: number): string {
  return `relay-${relayId}-${generation}`;
}

/** BullMQ job id of a delivery run: derived from the delivery id, so enqueueing twice is a no-op. */
export function deliveryJobId(deliveryId: string, generation: number): string {
  return generation === 0 ? `wh-${deliveryId}` : `wh-${deliveryId}-${generation}`;
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
