import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppError, ErrorCode } from '../../common/errors';
import type { InboundEnvelope } from '../providers/store-provider';

/**
 * `new`: first delivery; `pending`: a redelivery of an event not applied yet (its wake-up
 * may have been lost: wake the applier again); `duplicate`: already applied.
 */
export type RecordOutcome = 'new' | 'pending' | 'duplicate';

interface Waiting {
  provider: string;
  env: InboundEnvelope;
  rawJson: string;
  resolve: (o: RecordOutcome) => void;
  reject: (e: unknown) => void;
}

/** Rows per INSERT; webhooks that arrive together share one statement and one commit. */
const MAX_BATCH = 500;
/** INSERTs in flight at once (the pool has 20 connections, shared with everything else). */
const MAX_IN_FLIGHT = 4;

/**
 * The durable record of inbound store webhooks: one row per provider event id (a unique
 * index). Each caller's promise resolves only after the INSERT holding its row has
 * committed, so nothing is answered 200 before it is on disk. Concurrent webhooks are
 * grouped into multi-row INSERTs (group commit in the application): one fsync for many.
 */
@Injectable()
export class InboundEventsService {
  private queue: Waiting[] = [];
  private inFlight = 0;
  private scheduled = false;

  constructor(@InjectDataSource() private readonly db: DataSource) {}

  record(provider: string, env: InboundEnvelope, rawJson: string): Promise<RecordOutcome> {
    // Postgres' jsonb refuses \u0000; refuse it here so it cannot fail a whole batch.
    if (rawJson.includes('\\u0000')) {
      return Promise.reject(AppError.validation('body', 'body is not storable JSON (\\u0000)'));
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ provider, env, rawJson, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= MAX_IN_FLIGHT || this.queue.length === 0) return;
    this.scheduled = true;
    // Let the requests already read in this turn of the event loop join the batch.
    setImmediate(() => {
      this.scheduled = false;
      while (this.inFlight < MAX_IN_FLIGHT && this.queue.length > 0) {
        const batch = this.queue.splice(0, MAX_BATCH);
        this.inFlight++;
        void this.flush(batch).finally(() => {
          this.inFlight--;
          this.schedule();
        });
      }
    });
  }

  private async flush(batch: Waiting[]): Promise<void> {
    // One row per (provider, event key): a key twice in one statement would be an error.
    const first = new Map<string, Waiting>();
    for (const w of batch) {
      const k = `${w.provider}\u0000${w.env.eventKey}`;
      if (!first.has(k)) first.set(k, w);
    }
    const rows = [...first.values()];
    let result: Array<{ provider: string; event_key: string; inserted: boolean; applied: boolean }>;
    try {
      // DO UPDATE (a no-op on the key) rather than DO NOTHING, so a duplicate tells its state.
      result = await this.db.query(
        `INSERT INTO inbound_events AS e (provider, event_key, shop, topic, triggered_at, payload)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::jsonb[])
         ON CONFLICT (provider, event_key) DO UPDATE SET event_key = e.event_key
         RETURNING e.provider, e.event_key, (xmax = 0) AS inserted, (applied_at IS NOT NULL) AS applied`,
        [
          rows.map((w) => w.provider),
          rows.map((w) => w.env.eventKey),
          rows.map((w) => w.env.shop),
          rows.map((w) => w.env.topic),
          rows.map((w) => (w.env.triggeredAt ? w.env.triggeredAt.toISOString() : null)),
          rows.map((w) => w.rawJson),
        ],
      );
    } catch {
      const err = new AppError(
        ErrorCode.ServiceUnavailable,
        'the event could not be recorded; retry later',
      );
      for (const w of batch) w.reject(err);
      return;
    }
    const outcome = new Map<string, RecordOutcome>();
    for (const r of result) {
      outcome.set(
        `${r.provider}\u0000${r.event_key}`,
        r.inserted ? 'new' : r.applied ? 'duplicate' : 'pending',
      );
    }
    const told = new Set<string>();
    for (const w of batch) {
      const k = `${w.provider}\u0000${w.env.eventKey}`;
      const o = outcome.get(k) ?? 'pending';
      // The same event twice in one batch: the second one is a (not yet applied) duplicate.
      w.resolve(told.has(k) && o === 'new' ? 'pending' : o);
      told.add(k);
    }
  }
}
