import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppError, ErrorCode } from '../../common/errors';
import type { InboundEnvelope } from '../providers/store-provider';

/**
 * The durable record of inbound store webhooks: one row per provider event id (a unique
 * index), committed before the webhook is answered. Applying happens later (a job).
 */
@Injectable()
export class InboundEventsService {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /**
   * Records the event once. `new`: first delivery; `pending`: a redelivery of an event not
   * applied yet (its wake-up may have been lost: wake the applier again); `duplicate`:
   * already applied. 503 when Postgres cannot take it.
   */
  async record(
    provider: string,
    env: InboundEnvelope,
    rawJson: string,
  ): Promise<'new' | 'pending' | 'duplicate'> {
    let rows: Array<{ inserted: boolean; applied: boolean }>;
    try {
      // DO UPDATE (a no-op on the key) rather than DO NOTHING, so a duplicate tells its state.
      rows = await this.db.query(
        `INSERT INTO inbound_events AS e (provider, event_key, shop, topic, triggered_at, payload)
         VALUES ($1, $2, $3, $4, $5, $6::jsonb)
         ON CONFLICT (provider, event_key) DO UPDATE SET event_key = e.event_key
         RETURNING (xmax = 0) AS inserted, (applied_at IS NOT NULL) AS applied`,
        [provider, env.eventKey, env.shop, env.topic, env.triggeredAt, rawJson],
      );
    } catch (err) {
      const code = (err as { code?: string }).code;
      // 22P02/22P05: text Postgres' jsonb refuses (e.g. \u0000): the body's fault.
      if (code === '22P02' || code === '22P05') {
        throw AppError.validation('body', 'body is not storable JSON');
      }
      throw new AppError(
        ErrorCode.ServiceUnavailable,
        'the event could not be recorded; retry later',
      );
    }
    const [row] = rows;
    return row.inserted ? 'new' : row.applied ? 'duplicate' : 'pending';
  }
}
