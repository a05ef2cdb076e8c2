import {
  Column,
  CreateDateColumn,
  Entity,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';

export const STORE_CONNECTION_STATUSES = ['pending', 'linked', 'needs_relink', 'revoked'] as const;
export type StoreConnectionStatus = (typeof STORE_CONNECTION_STATUSES)[number];
export type SyncState = 'idle' | 'running' | 'failed';

/** A brand's link to one store (OAuth). The access token is sealed (SecretBox). */
@Entity({ name: 'store_connections' })
export class StoreConnection {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'partner_id', type: 'uuid' })
  partnerId: string;

  @Column({ name: 'brand_id', type: 'uuid' })
  brandId: string;

  @Column({ type: 'text' })
  provider: string;

  @Column({ type: 'text' })
  shop: string;

  @Column({ type: 'text' })
  status: StoreConnectionStatus;

  @Column({ type: 'text', array: true })
  scopes: string[];

  @Column({ name: 'return_url', type: 'text' })
  returnUrl: string;

  /** SHA-256 of the one-time OAuth state nonce; cleared when the callback uses it. */
  @Column({ name: 'state_hash', type: 'bytea', nullable: true })
  stateHash: Buffer | null;

  @Column({ name: 'state_expires_at', type: 'timestamptz', nullable: true })
  stateExpiresAt: Date | null;

  /** PKCE code verifier (providers that use PKCE), sealed; cleared by the callback. */
  @Column({ name: 'pkce_verifier_sealed', type: 'text', nullable: true })
  pkceVerifierSealed: string | null;

  @Column({ name: 'pkce_verifier_key_id', type: 'text', nullable: true })
  pkceVerifierKeyId: string | null;

  @Column({ name: 'access_token_sealed', type: 'text', nullable: true })
  accessTokenSealed: string | null;

  @Column({ name: 'access_token_key_id', type: 'text', nullable: true })
  accessTokenKeyId: string | null;

  /** When the access token expires (expiring offline tokens); null: it does not. */
  @Column({ name: 'access_token_expires_at', type: 'timestamptz', nullable: true })
  accessTokenExpiresAt: Date | null;

  /** The refresh token of an expiring access token, sealed (AAD `store_connection:<id>:refresh`). */
  @Column({ name: 'refresh_token_sealed', type: 'text', nullable: true })
  refreshTokenSealed: string | null;

  @Column({ name: 'refresh_token_key_id', type: 'text', nullable: true })
  refreshTokenKeyId: string | null;

  @Column({ name: 'refresh_token_expires_at', type: 'timestamptz', nullable: true })
  refreshTokenExpiresAt: Date | null;

  /** The store-side export (Shopify bulk operation) the running import waits for or reads. */
  @Column({ name: 'bulk_operation_id', type: 'text', nullable: true })
  bulkOperationId: string | null;

  /** Set when the store announced that export's end (webhook); polling is the fallback. */
  @Column({ name: 'bulk_finished_at', type: 'timestamptz', nullable: true })
  bulkFinishedAt: Date | null;

  @Column({ name: 'webhook_ids', type: 'jsonb' })
  webhookIds: string[];

  @Column({ type: 'text', nullable: true })
  currency: string | null;

  @Column({ name: 'sync_state', type: 'text' })
  syncState: SyncState;

  @Column({ name: 'sync_imported', type: 'int' })
  syncImported: number;

  @Column({ name: 'sync_total', type: 'int', nullable: true })
  syncTotal: number | null;

  /** Where the running import resumes (the provider's page cursor). */
  @Column({ name: 'sync_cursor', type: 'text', nullable: true })
  syncCursor: string | null;

  /** When the running import started: the watermark once it finishes. */
  @Column({ name: 'sync_started_at', type: 'timestamptz', nullable: true })
  syncStartedAt: Date | null;

  /** Store time up to which changes are known to be applied (reconciliation start). */
  @Column({ name: 'sync_watermark', type: 'timestamptz', nullable: true })
  syncWatermark: Date | null;

  @Column({ name: 'last_synced_at', type: 'timestamptz', nullable: true })
  lastSyncedAt: Date | null;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
