import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { storeConnectionEventData } from '../notifications/event-payloads';
import { OutboxService } from '../notifications/outbox.service';
import type { StoreConnection } from './store-connection.entity';

type Conn = Pick<StoreConnection, 'id' | 'partnerId' | 'brandId' | 'provider' | 'shop'>;

/** DELETE by the partner also ends an install in progress (its state nonce and PKCE verifier). */
const FORGET_INSTALL = `, state_hash = NULL, state_expires_at = NULL,
              pkce_verifier_sealed = NULL, pkce_verifier_key_id = NULL`;

/** Every token a connection holds, forgotten (revoke, shop/redact). */
const FORGET_TOKENS = `, access_token_sealed = NULL, access_token_key_id = NULL, access_token_expires_at = NULL,
              refresh_token_sealed = NULL, refresh_token_key_id = NULL, refresh_token_expires_at = NULL`;

/**
 * The one writer of a store connection's sync fields — `sync_state`, `sync_imported`,
 * `sync_total`, `sync_cursor`, `sync_started_at`, `sync_watermark`, `last_synced_at`,
 * `last_error`, the store's `currency` — and of the status changes that sync and the
 * store's answers cause: `needs_relink` (a 401) and `revoked` (app/uninstalled, DELETE).
 * Catalog sync, order placement, the inbound applier and the OAuth install call it;
 * the install itself (state, token, scopes, `linked`) is StoreOAuthService's.
 */
@Injectable()
export class StoreConnectionSyncState {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly outbox: OutboxService,
  ) {}

  /** At link time, in the callback's transaction: a new import starts from nothing. */
  async resetForImport(m: EntityManager, id: string): Promise<void> {
    await m.query(
      `UPDATE store_connections
          SET sync_state = 'running', sync_imported = 0, sync_total = NULL, sync_cursor = NULL,
              bulk_operation_id = NULL, bulk_finished_at = NULL, last_error = NULL, updated_at = now()
        WHERE id = $1`,
      [id],
    );
  }

  /** The store's currency, learned at the first import. */
  async setCurrency(id: string, currency: string): Promise<void> {
    await this.db.query(`UPDATE store_connections SET currency = $2 WHERE id = $1`, [id, currency]);
  }

  /** A fresh import (not a resume): counted, and started now (the watermark it will leave). */
  async importStarted(id: string, total: number): Promise<void> {
    await this.db.query(
      `UPDATE store_connections
          SET sync_state = 'running', sync_total = $2, sync_imported = 0, sync_started_at = now(),
              last_error = NULL, updated_at = now()
        WHERE id = $1`,
      [id, total],
    );
  }

  /** An import resumed from its saved cursor. */
  async importResumed(id: string): Promise<void> {
    await this.db.query(
      `UPDATE store_connections SET sync_state = 'running', updated_at = now() WHERE id = $1`,
      [id],
    );
  }

  /** In the page's transaction: the cursor and the count move with the products written. */
  async importPageSaved(
    m: EntityManager,
    id: string,
    nextCursor: string | null,
    imported: number,
  ): Promise<void> {
    await m.query(
      `UPDATE store_connections
          SET sync_cursor = $2, sync_imported = sync_imported + $3, updated_at = now()
        WHERE id = $1`,
      [id, nextCursor, imported],
    );
  }

  /** The last page is in: idle, and the import's start becomes the reconciliation watermark. */
  async importFinished(id: string): Promise<void> {
    await this.db.query(
      `UPDATE store_connections
          SET sync_state = 'idle', sync_cursor = NULL, bulk_operation_id = NULL, bulk_finished_at = NULL,
              last_synced_at = now(),
              sync_watermark = COALESCE(sync_started_at, now()), sync_total = GREATEST(sync_total, sync_imported),
              last_error = NULL, updated_at = now()
        WHERE id = $1`,
      [id],
    );
  }

  /** A reconciliation that started at `startedAt` is done: the next one looks back from there. */
  async reconciled(id: string, startedAt: Date): Promise<void> {
    await this.db.query(
      `UPDATE store_connections
          SET sync_watermark = $2, last_synced_at = now(), last_error = NULL, updated_at = now()
        WHERE id = $1`,
      [id, startedAt],
    );
  }

  /** A sync attempt failed (`message` holds no secret); `final`: no retry follows, `failed`. */
  async syncFailed(id: string, message: string, final: boolean): Promise<void> {
    await this.db.query(
      `UPDATE store_connections SET sync_state = CASE WHEN $3 THEN 'failed' ELSE sync_state END,
              last_error = $2, updated_at = now()
        WHERE id = $1`,
      [id, message, final],
    );
  }

  /** Something worth showing that did not stop the connection (e.g. webhook registration). */
  async recordError(id: string, message: string): Promise<void> {
    await this.db.query(
      `UPDATE store_connections SET last_error = $2, updated_at = now() WHERE id = $1`,
      [id, message],
    );
  }

  /** The store answered 401 (outside a sync): the token is no longer good. */
  async markNeedsRelink(c: Conn, reason: string): Promise<void> {
    await this.db.transaction((m) => this.needsRelink(m, c, reason));
  }

  /** The store answered a sync with 401: needs_relink, and the sync failed, together. */
  async syncUnauthorized(c: Conn, reason: string): Promise<void> {
    await this.db.transaction(async (m) => {
      await this.needsRelink(m, c, reason);
      await m.query(
        `UPDATE store_connections SET sync_state = 'failed', last_error = $2 WHERE id = $1`,
        [c.id, reason],
      );
    });
  }

  /**
   * Revoked, and the token forgotten. By the store (app/uninstalled): an install begun
   * again before the webhook arrived still completes. By the partner (DELETE): that
   * install ends too.
   */
  async revoke(m: EntityManager, id: string, by: 'store' | 'partner'): Promise<void> {
    await m.query(
      `UPDATE store_connections
          SET status = 'revoked'${FORGET_TOKENS},
              webhook_ids = '[]', sync_cursor = NULL, bulk_operation_id = NULL, bulk_finished_at = NULL,
              updated_at = now()${by === 'partner' ? FORGET_INSTALL : ''}
        WHERE id = $1`,
      [id],
    );
  }

  /**
   * shop/redact: the shop's data is erased. Every token forgotten and the connection
   * revoked (an install in progress ends too); the row stays, holding no secret.
   */
  async forgetShop(m: EntityManager, id: string): Promise<void> {
    await m.query(
      `UPDATE store_connections
          SET status = 'revoked'${FORGET_TOKENS}${FORGET_INSTALL},
              webhook_ids = '[]', sync_cursor = NULL, bulk_operation_id = NULL, bulk_finished_at = NULL,
              sync_imported = 0, sync_total = NULL, updated_at = now()
        WHERE id = $1`,
      [id],
    );
  }

  /** The import now waits for (or reads) this store-side export; null when it has none. */
  async setExport(id: string, exportId: string | null, cursor: string | null): Promise<void> {
    await this.db.query(
      `UPDATE store_connections
          SET bulk_operation_id = $2, bulk_finished_at = NULL, sync_cursor = $3, updated_at = now()
        WHERE id = $1`,
      [id, exportId, cursor],
    );
  }

  /** bulk_operations/finish: the export the import waits for has ended (no-op for any other). */
  async exportFinished(m: EntityManager, id: string, exportId: string): Promise<boolean> {
    const res: [unknown[], number] = await m.query(
      `UPDATE store_connections SET bulk_finished_at = now()
        WHERE id = $1 AND bulk_operation_id = $2 AND bulk_finished_at IS NULL`,
      [id, exportId],
    );
    return res[1] > 0;
  }

  /** linked → needs_relink with its event (only once: a connection already waiting is left). */
  private async needsRelink(m: EntityManager, c: Conn, reason: string): Promise<void> {
    const res: [unknown[], number] = await m.query(
      `UPDATE store_connections SET status = 'needs_relink', last_error = $2, updated_at = now()
        WHERE id = $1 AND status = 'linked'`,
      [c.id, reason],
    );
    if (res[1] > 0) {
      await this.outbox.record(
        m,
        c.partnerId,
        'store_connection.needs_relink',
        storeConnectionEventData(c),
      );
    }
  }
}
