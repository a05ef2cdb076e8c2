import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { SecretBox } from '../../common/secret-box';
import type { InboundEnvelope } from '../providers/store-provider';

export type ComplianceTopic = 'customers/data_request' | 'customers/redact' | 'shop/redact';

/** A recorded compliance request; `payload()` unseals what the store sent (buyers' data). */
export interface ComplianceRequest {
  id: string;
  provider: string;
  topic: ComplianceTopic;
  storeConnectionId: string | null;
  shop: string;
  status: 'pending' | 'completed';
  /** What has been done so far, by part (e.g. `catalog` for shop/redact), as recorded. */
  outcome: Record<string, unknown>;
  receivedAt: Date;
  completedAt: Date | null;
}

interface Row {
  id: string;
  provider: string;
  topic: ComplianceTopic;
  store_connection_id: string | null;
  shop: string;
  status: 'pending' | 'completed';
  outcome: Record<string, unknown> | null;
  received_at: Date;
  completed_at: Date | null;
  payload_sealed: string;
  payload_key_id: string;
}

/** The AAD of a request's sealed payload: bound to its row. */
export function compliancePayloadAad(id: string): string {
  return `compliance_request:${id}`;
}

/**
 * The one owner of `compliance_requests`: the mandatory compliance webhooks
 * (customers/data_request, customers/redact, shop/redact), recorded durably at the door
 * with their payload sealed (SecretBox: it names buyers), and the hand-off to whoever
 * acts on them: `pending(topics)` lists what is still to do, `payload(request)` unseals
 * it, `recordOutcome` keeps what a part did, `markCompleted` closes it.
 */
@Injectable()
export class ComplianceRequestsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly box: SecretBox,
  ) {}

  /** At the door: one row per event (a redelivery is a duplicate). */
  async record(
    provider: string,
    env: InboundEnvelope,
    rawJson: string,
    storeConnectionId: string | null,
  ): Promise<'new' | 'duplicate'> {
    const id = randomUUID();
    const sealed = this.box.seal(rawJson, compliancePayloadAad(id));
    const rows: Array<{ id: string }> = await this.db.query(
      `INSERT INTO compliance_requests
         (id, provider, topic, event_key, store_connection_id, shop, payload_sealed, payload_key_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (provider, event_key) DO NOTHING
       RETURNING id`,
      [
        id,
        provider,
        env.topic,
        env.eventKey,
        storeConnectionId,
        env.shop,
        sealed.sealed,
        sealed.keyId,
      ],
    );
    return rows.length > 0 ? 'new' : 'duplicate';
  }

  /** Pending requests of these topics, oldest first. */
  async pending(topics: ComplianceTopic[], limit = 100): Promise<ComplianceRequest[]> {
    const rows: Row[] = await this.db.query(
      `SELECT * FROM compliance_requests WHERE status = 'pending' AND topic = ANY($1::text[])
        ORDER BY received_at LIMIT $2`,
      [topics, limit],
    );
    return rows.map(toRequest);
  }

  async get(id: string): Promise<ComplianceRequest | null> {
    const rows: Row[] = await this.db.query(`SELECT * FROM compliance_requests WHERE id = $1`, [
      id,
    ]);
    return rows[0] ? toRequest(rows[0]) : null;
  }

  /** What the store sent, unsealed: handle as buyers' personal data (never log it). */
  async payload(request: Pick<ComplianceRequest, 'id'>): Promise<unknown> {
    const rows: Row[] = await this.db.query(
      `SELECT payload_sealed, payload_key_id FROM compliance_requests WHERE id = $1`,
      [request.id],
    );
    if (!rows[0]) return null;
    return JSON.parse(
      this.box.open(
        { keyId: rows[0].payload_key_id, sealed: rows[0].payload_sealed },
        compliancePayloadAad(request.id),
      ),
    );
  }

  /** Keeps what one part of the request did (`part` → detail), in the caller's transaction. */
  async recordOutcome(m: EntityManager, id: string, part: string, detail: object): Promise<void> {
    await m.query(
      `UPDATE compliance_requests
          SET outcome = COALESCE(outcome, '{}'::jsonb) || jsonb_build_object($2::text, $3::jsonb)
        WHERE id = $1`,
      [id, part, JSON.stringify({ ...detail, at: new Date().toISOString() })],
    );
  }

  /** Done: status completed, completed_at now (in the transaction of the last part). */
  async markCompleted(m: EntityManager, id: string): Promise<void> {
    await m.query(
      `UPDATE compliance_requests SET status = 'completed', completed_at = now()
        WHERE id = $1 AND status = 'pending'`,
      [id],
    );
  }
}

function toRequest(r: Row): ComplianceRequest {
  return {
    id: r.id,
    provider: r.provider,
    topic: r.topic,
    storeConnectionId: r.store_connection_id,
    shop: r.shop,
    status: r.status,
    outcome: r.outcome ?? {},
    receivedAt: r.received_at,
    completedAt: r.completed_at,
  };
}
