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
/** Webhooks waiting for an INSERT beyond this are refused (503: the store retries). */
const MAX_WAITING = 10_000;

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

  /** `rawJson` must be valid JSON (the caller parsed it): it is stored as it came. */
  record(provider: string, env: InboundEnvelope, rawJson: string): Promise<RecordOutcome> {
    // A \u0000 escape parses, but no Postgres text column takes the string it makes: the
    // event could never be applied. Refused here rather than failing later in the applier.
    if (rawJson.includes('\\u0000')) {
      return Promise.reject(AppError.validation('body', 'body is not storable JSON (\\u0000)'));
    }
    if (this.queue.length >= MAX_WAITING) {
      return Promise.reject(
        new AppError(ErrorCode.ServiceUnavailable, 'too many events waiting; retry later'),
      );
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
    const params: unknown[] = [];
    const values: string[] = [];
    for (const w of first.values()) {
      const n = params.push(
        w.provider,
        w.env.eventKey,
        w.env.shop,
        w.env.topic,
        w.env.triggeredAt,
        w.rawJson,
      );
      values.push(`($${n - 5},$${n - 4},$${n - 3},$${n - 2},$${n - 1},$${n})`);
    }
    let result: Array<{ provider: string; event_key: string; applied: boolean }>;
    try {
      // Plain parameters into text columns: Postgres copies the payloads, it does not parse
      // them (they were parsed as JSON before they got here).
      // DO UPDATE (a no-op on the key) rather than DO NOTHING, so a duplicate tells its state.
      // Only duplicates come back: a row not returned was inserted (the common case, no rows).
      result = await this.db.query(
        `WITH written AS (
           INSERT INTO inbound_events AS e (provider, event_key, shop, topic, triggered_at, payload)
           VALUES ${values.join(',')}
           ON CONFLICT (provider, event_key) DO UPDATE SET event_key = e.event_key
           RETURNING e.provider, e.event_key, (xmax = 0) AS inserted, (applied_at IS NOT NULL) AS applied)
         SELECT provider, event_key, applied FROM written WHERE NOT inserted`,
        params,
      );
    } catch (err) {
      // A data exception (class 22): some value Postgres refuses. It must not take its
      // neighbours down: record them one by one, so only that one is refused.
      const refused = String((err as { code?: string }).code).startsWith('22');
      if (refused && batch.length > 1) {
        for (const w of batch) await this.flush([w]);
        return;
      }
      const refusal = refused
        ? AppError.validation('event', 'the event is not storable as sent')
        : new AppError(
            ErrorCode.ServiceUnavailable,
            'the event could not be recorded; retry later',
          );
      for (const w of batch) w.reject(refusal);
      return;
    }
    const existing = new Map<string, RecordOutcome>();
    for (const r of result) {
      existing.set(`${r.provider}\u0000${r.event_key}`, r.applied ? 'duplicate' : 'pending');
    }
    const told = new Set<string>();
    for (const w of batch) {
      const k = `${w.provider}\u0000${w.env.eventKey}`;
      const o = existing.get(k) ?? 'new';
      // The same event twice in one batch: the second one is a (not yet applied) duplicate.
      w.resolve(told.has(k) && o === 'new' ? 'pending' : o);
      told.add(k);
    }
  }
}
