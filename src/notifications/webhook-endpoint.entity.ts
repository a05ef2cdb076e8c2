import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

export type EndpointDisabledReason = 'gone' | 'failing';

/**
 * A partner's webhook endpoint. The signing secret is sealed with SecretBox (AES-256-GCM,
 * key id per row) and only ever shown in the create / rotate response. During a rotation
 * the previous secret keeps signing until `previousSecretExpiresAt`.
 */
@Entity({ name: 'webhook_endpoints' })
export class WebhookEndpoint {
  /** Chosen in code so that the sealed secret can be bound to the row id (AAD). */
  @PrimaryColumn('uuid')
  id: string;

  @Column({ name: 'partner_id', type: 'uuid' })
  partnerId: string;

  @Column({ type: 'text' })
  url: string;

  /** `["*"]` or event type names. */
  @Column({ type: 'text', array: true })
  events: string[];

  @Column({ type: 'boolean', default: true })
  enabled: boolean;

  @Column({ name: 'disabled_reason', type: 'text', nullable: true })
  disabledReason: EndpointDisabledReason | null;

  @Column({ name: 'secret_key_id', type: 'text' })
  secretKeyId: string;

  @Column({ name: 'secret_sealed', type: 'text' })
  secretSealed: string;

  @Column({ name: 'previous_secret_key_id', type: 'text', nullable: true })
  previousSecretKeyId: string | null;

  @Column({ name: 'previous_secret_sealed', type: 'text', nullable: true })
  previousSecretSealed: string | null;

  @Column({ name: 'previous_secret_expires_at', type: 'timestamptz', nullable: true })
  previousSecretExpiresAt: Date | null;

  /** Start of the current run of failed attempts; null after any success. */
  @Column({ name: 'failing_since', type: 'timestamptz', nullable: true })
  failingSince: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz', precision: 3 })
  updatedAt: Date;
}
