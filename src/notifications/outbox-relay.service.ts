import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnModuleDestroy,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { AppConfig } from '../../config/env.schema';
import { APP_CONFIG } from '../common/app-config';
import { PeriodicLoop } from '../common/periodic-loop';
import { PgListener } from '../database/pg-listener';
import { WebhookDeliveriesService } from './webhook-deliveries.service';

/**
 * How often the relay looks for new outbox rows when it cannot hear Postgres's
 * notifications (LISTEN castbridge_outbox: a committed outbox row wakes it at once).
 */
export const RELAY_INTERVAL_MS = 250;
/** The look it takes anyway while notifications arrive (a notification lost on the way). */
export const RELAY_FALLBACK_MS = 5000;
const BATCH = 200;
/** How often the sweeper re-adds delivery jobs a crash may have lost. */
export const SWEEP_EVERY_MS = 5000;

/**
 * The outbox relay (worker role): claims committed, undispatched outbox rows with
 * `FOR UPDATE SKIP LOCKED` (several workers share the work, none takes a row twice),
 * turns each into one delivery per enabled, subscribed endpoint of the event's partner,
 * marks the rows dispatched in the same transaction, then adds one BullMQ job per
 * delivery (job id derived from the delivery id).
 */
@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(OutboxRelay.name);
  private stopped = false;
  private lastSweepAt = Date.now();
  private readonly loop = new PeriodicLoop(
    'outbox relay',
    RELAY_INTERVAL_MS,
    async () => {
      if (await this.tick()) return 0;
      return this.listener.listening ? RELAY_FALLBACK_MS : RELAY_INTERVAL_MS;
    },
    this.logger,
  );
  private readonly listener: PgListener;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    @InjectDataSource() private readonly db: DataSource,
    private readonly deliveries: WebhookDeliveriesService,
  ) {
    this.listener = new PgListener(config.databaseUrl, 'castbridge_outbox', () => this.loop.wake());
  }

  onApplicationBootstrap(): void {
    this.loop.start(0);
    this.listener.start();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    await this.listener.close();
    await this.loop.stop();
  }

  /** One pass; true when a full batch was relayed (more may be waiting). */
  private async tick(): Promise<boolean> {
    let full = false;
    try {
      full = (await this.relayOnce()) === BATCH;
      if (Date.now() - this.lastSweepAt >= SWEEP_EVERY_MS) {
        this.lastSweepAt = Date.now();
        await this.deliveries.sweepUnenqueued();
      }
    } catch (err) {
      if (!this.stopped) this.logger.warn(`outbox relay pass failed: ${(err as Error).message}`);
    }
    return full;
  }

  /** Relays up to one batch of outbox rows; returns how many rows it dispatched. */
  async relayOnce(): Promise<number> {
    const created: string[] = [];
    const dispatched = await this.db.transaction(async (m) => {
      // SKIP LOCKED skips locked rows, not a locked table (a migration, a long prune): give
      // up after a moment instead of queueing behind it, so shutdown is never held up.
      await m.query(`SET LOCAL lock_timeout = '2s'`);
      const rows: Array<{ id: string }> = await m.query(
        `SELECT id FROM outbox_events
          WHERE dispatched_at IS NULL
          ORDER BY created_at, id
          LIMIT $1
          FOR UPDATE SKIP LOCKED`,
        [BATCH],
      );
      if (rows.length === 0) return 0;
      const ids = rows.map((r) => r.id);
      const inserted: Array<{ id: string }> = await m.query(
        `INSERT INTO webhook_deliveries (endpoint_id, event_id, event_type, next_attempt_at)
         SELECT w.id, e.id, e.type, now()
           FROM outbox_events e
           JOIN webhook_endpoints w
             ON w.partner_id = e.partner_id AND w.enabled
            AND ('*' = ANY (w.events) OR e.type = ANY (w.events))
          WHERE e.id = ANY ($1::uuid[])
          ORDER BY e.created_at, e.id
         ON CONFLICT (event_id, endpoint_id) DO NOTHING
         RETURNING id`,
        [ids],
      );
      await m.query(`UPDATE outbox_events SET dispatched_at = now() WHERE id = ANY ($1::uuid[])`, [
        ids,
      ]);
      created.push(...inserted.map((r) => r.id));
      return rows.length;
    });
    // After commit: a job never runs before its delivery row is visible.
    for (const id of created) await this.deliveries.enqueue(id, 0);
    return dispatched;
  }
}
