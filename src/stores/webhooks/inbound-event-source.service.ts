import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';

/** A recorded inbound store event that is not applied yet. */
export interface PendingInboundEvent {
  id: string;
  provider: string;
  shop: string;
  topic: string;
  triggeredAt: Date | null;
  /** The body as the store sent it (JSON text, parsed when it was recorded; dropped once applied). */
  payload: string;
  /** Failed tries so far. */
  attempts: number;
}

/** Kept of a failed event's error (the column is text; the message may be anything). */
const MAX_ERROR_CHARS = 500;

/**
 * The applying end of `inbound_events` (InboundEventsService is the recording end): claims
 * pending events in batches inside a transaction, marks them applied (dropping the body:
 * order bodies carry customers' addresses) or failed (keeping it), and prunes applied ones.
 * Whatever the caller writes with the claimed events' EntityManager commits together with
 * their marks, so the dedupe and the change it caused are one commit.
 */
@Injectable()
export class InboundEventSource {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /**
   * One transaction around `work`: up to `limit` pending events after `afterId` (oldest
   * first) are claimed FOR UPDATE SKIP LOCKED, so several workers share the backlog.
   * `work` throwing rolls back everything it did, and the events stay pending.
   */
  withClaimed<T>(
    afterId: string,
    limit: number,
    work: (m: EntityManager, events: PendingInboundEvent[]) => Promise<T>,
  ): Promise<T> {
    return this.db.transaction(async (m) => {
      const rows: Array<{
        id: string;
        provider: string;
        shop: string;
        topic: string;
        triggered_at: Date | null;
        payload: string;
        attempts: number;
      }> = await m.query(
        `SELECT id, provider, shop, topic, triggered_at, payload, attempts
           FROM inbound_events
          WHERE applied_at IS NULL AND id > $1
          ORDER BY id LIMIT $2
            FOR UPDATE SKIP LOCKED`,
        [afterId, limit],
      );
      const events = rows.map((r): PendingInboundEvent => ({
        id: r.id,
        provider: r.provider,
        shop: r.shop,
        topic: r.topic,
        triggeredAt: r.triggered_at ? new Date(r.triggered_at) : null,
        payload: r.payload,
        attempts: r.attempts,
      }));
      return work(m, events);
    });
  }

  /** Runs `work` in a savepoint: if it throws, only what it wrote is undone (and it rethrows). */
  async inSavepoint<T>(m: EntityManager, work: () => Promise<T>): Promise<T> {
    await m.query('SAVEPOINT inbound_event');
    try {
      const result = await work();
      await m.query('RELEASE SAVEPOINT inbound_event');
      return result;
    } catch (err) {
      await m.query('ROLLBACK TO SAVEPOINT inbound_event');
      throw err;
    }
  }

  /** Applied, each with its outcome (`created`, `stale`, `ignored: …`); the bodies are dropped. */
  async markApplied(m: EntityManager, ids: string[], outcomes: string[]): Promise<void> {
    if (ids.length === 0) return;
    await m.query(
      `UPDATE inbound_events e SET applied_at = now(), outcome = x.outcome, payload = NULL
         FROM unnest($1::bigint[], $2::text[]) AS x(id, outcome)
        WHERE e.id = x.id`,
      [ids, outcomes],
    );
  }

  /**
   * One more failed try; `setAside`: no more tries (applied_at set, outcome `failed`). The
   * body stays, to be retried or looked at.
   */
  async markFailed(m: EntityManager, id: string, error: string, setAside: boolean): Promise<void> {
    await m.query(
      `UPDATE inbound_events
          SET attempts = attempts + 1, last_error = $2,
              applied_at = CASE WHEN $3 THEN now() END,
              outcome = CASE WHEN $3 THEN 'failed' END
        WHERE id = $1`,
      [id, error.slice(0, MAX_ERROR_CHARS), setAside],
    );
  }

  /** Forgets applied events received more than `olderThanDays` ago; pending ones never. */
  async pruneApplied(olderThanDays: number): Promise<{ deleted: number }> {
    const res: [unknown[], number] = await this.db.query(
      `DELETE FROM inbound_events
        WHERE applied_at IS NOT NULL AND received_at < now() - make_interval(days => $1)`,
      [olderThanDays],
    );
    return { deleted: res[1] };
  }
}
