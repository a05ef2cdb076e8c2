import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { UnrecoverableError } from 'bullmq';
import { DataSource } from 'typeorm';
import { JobQueue } from '../queues/job-queue.service';
import { StoreApiContext, StoreApiError, StoreProvider } from '../stores/providers/store-provider';
import { StoreConnection } from '../stores/store-connection.entity';
import { StoreConnectionSyncState } from '../stores/store-connection-sync-state.service';
import { StoreConnectionsService } from '../stores/store-connections.service';
import { StoreCredentials } from '../stores/store-credentials.service';
import { StoreProviders } from '../stores/store-providers';
import { CatalogWriter } from './catalog-writer.service';

/** Reconciliation looks back this far before the watermark (clock skew, in-flight writes). */
export const RECONCILE_OVERLAP_MS = 60_000;
/** An import marked running but untouched for this long is restarted by the periodic sweep. */
const STUCK_IMPORT_MS = 10 * 60_000;

export interface ProgressSink {
  updateProgress(progress: number | object): Promise<void>;
}

/**
 * Catalog import and reconciliation. Both page through the store's products and write
 * them through CatalogWriter; the import persists its cursor with every page (same
 * transaction), so a crashed import resumes where it stopped. The connection's sync fields
 * are written by StoreConnectionSyncState.
 */
@Injectable()
export class CatalogSyncService {
  private readonly logger = new Logger(CatalogSyncService.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly connections: StoreConnectionsService,
    private readonly credentials: StoreCredentials,
    private readonly syncState: StoreConnectionSyncState,
    private readonly providers: StoreProviders,
    private readonly writer: CatalogWriter,
    private readonly jobs: JobQueue,
  ) {}

  private async load(
    id: string,
  ): Promise<{ conn: StoreConnection; provider: StoreProvider } | null> {
    const conn = await this.connections.findById(id);
    if (!conn || conn.status !== 'linked') return null;
    const provider = this.providers.find(conn.provider);
    return provider ? { conn, provider } : null;
  }

  async import(
    connectionId: string,
    progress: ProgressSink,
    finalAttempt: boolean,
  ): Promise<object> {
    const loaded = await this.load(connectionId);
    if (!loaded) return { skipped: 'not linked' };
    const { provider } = loaded;
    let conn = loaded.conn;
    try {
      const ctx = this.credentials.context(conn);
      if (!conn.currency) {
        const { currency } = await provider.shopInfo(ctx);
        await this.syncState.setCurrency(conn.id, currency);
        conn = { ...conn, currency } as StoreConnection;
      }
      if (!conn.syncCursor) {
        // A fresh start (not a resume): count, and remember when it began (the watermark).
        const total = await provider.countProducts(ctx);
        await this.syncState.importStarted(conn.id, total);
        conn = (await this.connections.findById(conn.id)) ?? conn;
      } else {
        await this.syncState.importResumed(conn.id);
      }
      let cursor = conn.syncCursor;
      let imported = conn.syncImported;
      const total = conn.syncTotal ?? 0;
      await progress.updateProgress(total ? Math.floor((imported / total) * 100) : 0);
      for (;;) {
        const page = await provider.listProducts(ctx, { cursor });
        await this.db.transaction(async (m) => {
          await this.writer.upsertProducts(m, conn, page.products, { emitEvents: false });
          await this.syncState.importPageSaved(m, conn.id, page.nextCursor, page.products.length);
        });
        imported += page.products.length;
        cursor = page.nextCursor;
        await progress.updateProgress(
          total ? Math.min(100, Math.floor((imported / total) * 100)) : 0,
        );
        if (!cursor) break;
      }
      await this.syncState.importFinished(conn.id);
      return { imported };
    } catch (err) {
      throw await this.failed(conn, err, finalAttempt);
    }
  }

  async reconcile(connectionId: string): Promise<object> {
    const loaded = await this.load(connectionId);
    if (!loaded) return { skipped: 'not linked' };
    const { conn, provider } = loaded;
    if (!conn.lastSyncedAt) {
      // Never imported: the import is the reconciliation (unless it is running).
      if (conn.syncState !== 'running' || Date.now() - conn.updatedAt.getTime() > STUCK_IMPORT_MS) {
        await this.jobs.add('catalog.import', { storeConnectionId: conn.id });
        return { started: 'import' };
      }
      return { skipped: 'import running' };
    }
    const startedAt = new Date();
    const since = new Date(
      (conn.syncWatermark ?? conn.lastSyncedAt).getTime() - RECONCILE_OVERLAP_MS,
    );
    let applied = 0;
    try {
      const ctx = this.credentials.context(conn);
      let cursor: string | null = null;
      for (;;) {
        const page = await provider.listProducts(ctx, { cursor, updatedSince: since });
        await this.db.transaction(async (m) => {
          const r = await this.writer.upsertProducts(m, conn, page.products, { emitEvents: true });
          applied += r.created + r.updated;
        });
        cursor = page.nextCursor;
        if (!cursor) break;
      }
      const deleted = await this.reconcileDeletions(conn, provider, ctx, startedAt);
      await this.syncState.reconciled(conn.id, startedAt);
      return { applied, deleted };
    } catch (err) {
      throw await this.failed(conn, err, false);
    }
  }

  /**
   * Deletions leave no trace in updated_at_min: when we hold more products than the store
   * counts, list the store's ids (ids only) and delete ours that it no longer has.
   */
  private async reconcileDeletions(
    conn: StoreConnection,
    provider: StoreProvider,
    ctx: StoreApiContext,
    at: Date,
  ): Promise<number> {
    const storeCount = await provider.countProducts(ctx);
    const [{ n }]: Array<{ n: number }> = await this.db.query(
      `SELECT count(*)::int AS n FROM products WHERE store_connection_id = $1 AND deleted_at IS NULL`,
      [conn.id],
    );
    if (n <= storeCount) return 0;
    const present = new Set<string>();
    let cursor: string | null = null;
    do {
      const page = await provider.listProductIds(ctx, { cursor });
      for (const id of page.ids) present.add(id);
      cursor = page.nextCursor;
    } while (cursor);
    const ours: Array<{ external_id: string }> = await this.db.query(
      `SELECT external_id FROM products WHERE store_connection_id = $1 AND deleted_at IS NULL`,
      [conn.id],
    );
    const gone = ours.map((r) => r.external_id).filter((id) => !present.has(id));
    let deleted = 0;
    for (const externalId of gone) {
      await this.db.transaction(async (m) => {
        if (await this.writer.deleteProduct(m, conn, externalId, at)) deleted++;
      });
    }
    return deleted;
  }

  /** The periodic sweep: one reconciliation per linked connection. */
  async reconcileAll(): Promise<object> {
    const rows: Array<{ id: string }> = await this.db.query(
      `SELECT id FROM store_connections WHERE status = 'linked'`,
    );
    for (const r of rows) await this.jobs.add('catalog.reconcile', { storeConnectionId: r.id });
    return { queued: rows.length };
  }

  /** Records a failure (message only: StoreApiErrors carry no secrets) and picks the retry. */
  private async failed(conn: StoreConnection, err: unknown, finalAttempt: boolean): Promise<Error> {
    const safe = err instanceof StoreApiError ? err.message : 'internal error during sync';
    if (!(err instanceof StoreApiError))
      this.logger.error(`sync of ${conn.id} failed: ${(err as Error).message}`);
    if (err instanceof StoreApiError && err.kind === 'unauthorized') {
      await this.syncState.syncUnauthorized(conn, safe);
      return new UnrecoverableError(safe);
    }
    await this.syncState.syncFailed(conn.id, safe, finalAttempt);
    return err instanceof StoreApiError ? new Error(safe) : (err as Error);
  }
}
