import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import type { AppConfig, Role } from '../../config/env.schema';
import { INBOUND_RETENTION_DAYS, INBOUND_SWEEP_MS } from '../catalog/catalog.processors';
import { APP_CONFIG } from '../common/app-config';
import { INGEST_WATCH_MS } from '../ingest/ingest.service';
import { INGEST_SWEEP_MS } from '../media/rtmp-ingest-server';
import { PUSH_COALESCE_MS, STALL_CHECK_MS } from '../media/rtmp-push';
import { OUTBOX_RETENTION_DAYS } from '../notifications/outbox-maintenance.processor';
import {
  RELAY_FALLBACK_MS,
  RELAY_INTERVAL_MS,
  SWEEP_EVERY_MS,
} from '../notifications/outbox-relay.service';
import { EMBED_HEARTBEAT_MS, EMBED_POLL_MS } from '../playback/embed-timing';
import { JobQueue } from '../queues/job-queue.service';
import { JOBS, JobName, JobPayloads } from '../queues/queue-registry';
import { RECORDING_WATCH_MS } from '../recording/recorder';
import { RECORDING_RESUME_MS } from '../recording/recording.processor';
import { HLS_PUBLISH_POLL_MS } from '../relay/hls-publisher';
import { RELAY_RESUME_MS } from '../relay/relay.processor';
import { PUSH_PROGRESS_MS } from '../relay/relay-transports';
import { RELAY_POLL_MS, RELAY_PROGRESS_WRITE_MS } from '../relay/relay-worker.module';
import {
  buyerRetentionEveryMs,
  COMPLIANCE_EVERY_MS,
  KEY_ROTATION_EVERY_MS,
} from '../privacy/privacy.processor';
import { ORDER_SWEEP_EVERY_MS } from '../shopping/orders/orders.processor';

/**
 * Everything Castbridge does on a clock, in one list: what, in which role, how often.
 * The BullMQ job schedulers below are upserted from this list (one id each, however many
 * workers start); the in-process loops take their intervals from the constants named here.
 */

/** A BullMQ job scheduler: its job runs in some worker (one at a time across workers). */
export interface JobSchedule<N extends JobName = JobName> {
  id: string;
  job: N;
  data: JobPayloads[N];
  every?: number;
  /** cron pattern (UTC) */
  pattern?: string;
  what: string;
}

/** How often old recordings are looked for (RECORDING_RETENTION). */
export const RECORDINGS_PRUNE_MS = 15 * 60_000;

export function jobSchedules(config: AppConfig): JobSchedule[] {
  const s = <N extends JobName>(x: JobSchedule<N>): JobSchedule => x as unknown as JobSchedule;
  return [
    s({
      id: 'reconcile-all',
      job: 'catalog.reconcile-all',
      data: { trigger: 'schedule' },
      every: config.reconcileIntervalMs,
      what: 'queue a reconciliation of every linked store (RECONCILE_INTERVAL)',
    }),
    s({
      id: 'apply-inbound-sweep',
      job: 'catalog.apply-inbound',
      data: { trigger: 'sweep' },
      every: INBOUND_SWEEP_MS,
      what: 'apply recorded store webhooks no wake-up covered',
    }),
    s({
      id: 'prune-inbound-daily',
      job: 'catalog.prune-inbound',
      data: { olderThanDays: INBOUND_RETENTION_DAYS },
      pattern: '41 3 * * *',
      what: `delete applied store webhooks older than ${INBOUND_RETENTION_DAYS} days`,
    }),
    s({
      id: 'orders-sweep',
      job: 'orders.sweep',
      data: { trigger: 'schedule' },
      every: ORDER_SWEEP_EVERY_MS,
      what: 'enqueue the placement of pending orders that have no job',
    }),
    s({
      id: 'prune-outbox-daily',
      job: 'maintenance.prune-outbox',
      data: { olderThanDays: OUTBOX_RETENTION_DAYS },
      pattern: '17 3 * * *',
      what: `delete dispatched outbox events older than ${OUTBOX_RETENTION_DAYS} days`,
    }),
    s({
      id: 'buyer-data-retention',
      job: 'privacy.erase-expired',
      data: { trigger: 'schedule' },
      every: buyerRetentionEveryMs(config),
      what: "erase buyers' personal data of orders final for longer than BUYER_DATA_RETENTION (batched, idempotent); drop export results after 7 days",
    }),
    s({
      id: 'privacy-compliance',
      job: 'privacy.compliance',
      data: { trigger: 'schedule' },
      every: COMPLIANCE_EVERY_MS,
      what: "Shopify's compliance requests (customers/data_request, customers/redact, the orders' part of shop/redact) → buyers' privacy requests",
    }),
    s({
      id: 'keys-rotate',
      job: 'keys.rotate',
      data: { trigger: 'schedule' },
      every: KEY_ROTATION_EVERY_MS,
      what: 're-seal every value sealed under an older key with the first key of ENCRYPTION_KEYS (batched, resumable; also `npm run keys:rotate`)',
    }),
    s({
      id: 'prune-recordings',
      job: 'recordings.prune',
      data: { trigger: 'schedule' },
      every: RECORDINGS_PRUNE_MS,
      what: 'delete recordings older than RECORDING_RETENTION (media and segments)',
    }),
  ];
}

/** A loop inside a process of that role. `while` says when it runs at all. */
export interface Loop {
  role: Role;
  everyMs: number;
  what: string;
  while?: string;
}

export const LOOPS: Record<string, Loop> = {
  ingestWatch: {
    role: 'ingest',
    everyMs: INGEST_WATCH_MS,
    what: 'publishers: stalled (10 s) or stopped/rotated/deleted → disconnect; ingest info every 5 s; end sessions of lost ingest nodes',
  },
  ingestDeadlines: {
    role: 'ingest',
    everyMs: INGEST_SWEEP_MS,
    what: 'close RTMP connections past their handshake or publish deadline',
    while: 'unauthenticated connections exist',
  },
  relayResume: {
    role: 'worker',
    everyMs: RELAY_RESUME_MS,
    what: 're-enqueue every active relay (no-op when its job exists); the relay gauge',
  },
  recordingResume: {
    role: 'worker',
    everyMs: RECORDING_RESUME_MS,
    what: 're-enqueue every recording under way (no-op when its job exists)',
  },
  recordingWatch: {
    role: 'worker',
    everyMs: RECORDING_WATCH_MS,
    what: 'each recording run reads its session (its end closes the recording)',
    while: 'recordings run here',
  },
  hlsPublish: {
    role: 'worker',
    everyMs: HLS_PUBLISH_POLL_MS,
    what: "read each packager's scratch playlist; store new segments and the playlist",
    while: 'brand-site relays or recordings run here',
  },
  relayPoll: {
    role: 'worker',
    everyMs: RELAY_POLL_MS,
    what: 'one query for the rows of every relay this process runs (stop, edit, fence)',
    while: 'relays run here',
  },
  relayProgress: {
    role: 'worker',
    everyMs: RELAY_PROGRESS_WRITE_MS,
    what: 'one UPDATE of bitrate and bytes for every relay that reported',
    while: 'relays run here',
  },
  pushProgress: {
    role: 'worker',
    everyMs: PUSH_PROGRESS_MS,
    what: 'sample bytes sent of each push',
    while: 'a push runs',
  },
  pushStall: {
    role: 'worker',
    everyMs: STALL_CHECK_MS,
    what: 'write progress of each push (a destination that stopped reading)',
    while: 'a push runs',
  },
  pushCoalesce: {
    role: 'worker',
    everyMs: PUSH_COALESCE_MS,
    what: 'hand each destination socket the writes of the window at once (one timer for every push)',
    while: 'a push wrote in the window',
  },
  outboxRelay: {
    role: 'worker',
    everyMs: RELAY_FALLBACK_MS,
    what: `outbox rows → webhook deliveries: woken at once by each commit (LISTEN/NOTIFY), again at once after a full batch, every ${RELAY_INTERVAL_MS} ms while it cannot listen; every ${SWEEP_EVERY_MS / 1000} s re-add delivery jobs a crash lost`,
  },
  embedPoll: {
    role: 'api',
    everyMs: EMBED_POLL_MS,
    what: 'what a brand-site player shows (pins, prices, stock), one poll per destination',
    while: 'viewers watch it',
  },
  embedHeartbeat: {
    role: 'api',
    everyMs: EMBED_HEARTBEAT_MS,
    what: 'keep-alive comment on each open player event stream',
    while: 'a viewer is connected',
  },
};

/** Upserts every job scheduler of the list (worker role). */
@Injectable()
export class JobSchedules implements OnApplicationBootstrap {
  private readonly log = new Logger(JobSchedules.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly jobs: JobQueue,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    for (const s of jobSchedules(this.config)) {
      const def = JOBS[s.job];
      await this.jobs
        .queue(def.queue)
        .upsertJobScheduler(
          s.id,
          s.every !== undefined ? { every: s.every } : { pattern: s.pattern },
          {
            name: s.job,
            data: s.data,
            opts: def.options,
          },
        );
    }
    this.log.debug(
      `job schedulers: ${jobSchedules(this.config)
        .map((s) => s.id)
        .join(', ')}`,
    );
  }
}
