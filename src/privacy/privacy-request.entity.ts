import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

export const PRIVACY_KINDS = ['export', 'erase'] as const;
export type PrivacyKind = (typeof PRIVACY_KINDS)[number];
export const PRIVACY_SOURCES = ['api', 'shopify'] as const;
export type PrivacySource = (typeof PRIVACY_SOURCES)[number];
export const PRIVACY_STATUSES = ['pending', 'completed', 'failed'] as const;
export type PrivacyStatus = (typeof PRIVACY_STATUSES)[number];

/**
 * One export or erase request for one buyer (or, for Shopify's shop/redact, a whole store),
 * kept as the audit record: who asked, when, how many orders, which partners were told —
 * never the buyer's data. The email is not stored at all (the orders are found by its blind
 * index while the request runs); an export's result is sealed and dropped after
 * EXPORT_RESULT_TTL_MS. Written by PrivacyRequestsService only.
 */
@Entity({ name: 'privacy_requests' })
export class PrivacyRequest {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'partner_id', type: 'uuid' })
  partnerId: string;

  @Column({ type: 'text' })
  kind: PrivacyKind;

  @Column({ type: 'text' })
  source: PrivacySource;

  @Column({ type: 'text' })
  status: PrivacyStatus;

  /** Who asked: `partner-api` or `shopify:<shop>` (with the store connection). */
  @Column({ name: 'requested_by', type: 'text' })
  requestedBy: string;

  @Column({ name: 'store_connection_id', type: 'uuid', nullable: true })
  storeConnectionId: string | null;

  @Column({ name: 'orders_found', type: 'int' })
  ordersFound: number;

  @Column({ name: 'order_ids', type: 'uuid', array: true })
  orderIds: string[];

  @Column({ name: 'partners_notified', type: 'uuid', array: true })
  partnersNotified: string[];

  /** An export's result (SecretBox, AAD `privacy_request:<id>:result`). */
  @Column({ name: 'result_sealed', type: 'text', nullable: true })
  resultSealed: string | null;

  @Column({ name: 'result_key_id', type: 'text', nullable: true })
  resultKeyId: string | null;

  @Column({ name: 'result_expires_at', type: 'timestamptz', precision: 3, nullable: true })
  resultExpiresAt: Date | null;

  @Column({ name: 'failure_reason', type: 'text', nullable: true })
  failureReason: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt: Date;

  @Column({ name: 'completed_at', type: 'timestamptz', precision: 3, nullable: true })
  completedAt: Date | null;
}

/** What an export's sealed result is bound to: its request row. */
export function privacyResultAad(requestId: string): string {
  return `privacy_request:${requestId}:result`;
}
