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

  /** True when the event is new; false for a duplicate. 503 when Postgres cannot take it. */
  async record(provider: string, env: InboundEnvelope, rawJson: string): Promise<boolean> {
    let rows: unknown[];
    try {
      rows = await this.db.query(
        `INSERT INTO inbound_events (provider, event_key, shop, topic, triggered_at, payload)
         VALUES ($1, $2, $3, $4, $5, $6::jsonb)
         ON CONFLICT (provider, event_key) DO NOTHING
         RETURNING id`,
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
    return rows.length > 0;
  }
}
