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

  /** `rawJson` must be valid JSON (the caller parsed it): it is embedded as it is. */
  record(provider: string, env: InboundEnvelope, rawJson: string): Promise<RecordOutcome> {
    // Postgres' jsonb refuses \u0000; refuse it here so it cannot fail a whole batch.
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
    const rows = [...first.values()];
    let result: Array<{ provider: string; event_key: string; applied: boolean }>;
    try {
      // One JSON document for the whole batch: the payloads are embedded as they came (they
      // are valid JSON), so nothing is escaped or re-serialised on the way to Postgres.
      const doc = `[${rows
        .map(
          (w) =>
            `{"p":${JSON.stringify(w.provider)},"k":${JSON.stringify(w.env.eventKey)},` +
            `"s":${JSON.stringify(w.env.shop)},"t":${JSON.stringify(w.env.topic)},` +
            `"a":${w.env.triggeredAt ? `"${w.env.triggeredAt.toISOString()}"` : 'null'},"b":${w.rawJson}}`,
        )
        .join(',')}]`;
      // DO UPDATE (a no-op on the key) rather than DO NOTHING, so a duplicate tells its state.
      // Only duplicates come back: a row not returned was inserted (the common case, no rows).
      result = await this.db.query(
        `WITH written AS (
           INSERT INTO inbound_events AS e (provider, event_key, shop, topic, triggered_at, payload)
           SELECT x->>'p', x->>'k', x->>'s', x->>'t', (x->>'a')::timestamptz, x->'b'
             FROM jsonb_array_elements($1::jsonb) AS x
           ON CONFLICT (provider, event_key) DO UPDATE SET event_key = e.event_key
           RETURNING e.provider, e.event_key, (xmax = 0) AS inserted, (applied_at IS NOT NULL) AS applied)
         SELECT provider, event_key, applied FROM written WHERE NOT inserted`,
        [doc],
      );
    } catch (err) {
      const code = (err as { code?: string }).code;
      const refused = code === '22P02' || code === '22P05';
      if (refused && batch.length > 1) {
        // A payload Postgres' jsonb refuses (e.g. a lone surrogate escape) must not take its
        // neighbours down: record them one by one, so only that one is refused.
        for (const w of batch) await this.flush([w]);
        return;
      }
      const refusal = refused
        ? AppError.validation('body', 'body is not storable JSON')
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
