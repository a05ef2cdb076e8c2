import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { UnrecoverableError } from 'bullmq';
import { DataSource } from 'typeorm';
import type { AppConfig } from '../../config/env.schema';
import { APP_CONFIG } from '../common/app-config';
import { JobQueue } from '../queues/job-queue.service';
import {
  ProductPage,
  StoreApiContext,
  StoreApiError,
  StoreExportKind,
  StoreExportStatus,
  StoreInventoryLevel,
  StoreProduct,
  StoreProvider,
} from '../stores/providers/store-provider';
import { StoreConnection } from '../stores/store-connection.entity';
import { StoreConnectionSyncState } from '../stores/store-connection-sync-state.service';
import { StoreConnectionsService } from '../stores/store-connections.service';
import { StoreProviders } from '../stores/store-providers';
import { StoreTokens } from '../stores/store-tokens.service';
import { CatalogWriter } from './catalog-writer.service';

/** Reconciliation looks back this far before the watermark (clock skew, in-flight writes). */
export const RECONCILE_OVERLAP_MS = 60_000;
/** An import marked running but untouched for this long is restarted by the periodic sweep. */
const STUCK_IMPORT_MS = 10 * 60_000;
/** Products (and stock levels) written per transaction while reading an export. */
export const IMPORT_BATCH = 500;
export const LEVELS_BATCH = 5000;
/** More changed products than this since the watermark: reconcile with an export, not pages. */
export const RECONCILE_EXPORT_THRESHOLD = 2000;
/** How often the waiting import looks at its connection row (the webhook sets bulk_finished_at). */
const EXPORT_WAKE_MS = 200;
/** An export not finished after this long fails the attempt (the job retries). */
const EXPORT_MAX_WAIT_MS = 6 * 3600_000;

export interface ProgressSink {
  updateProgress(progress: number | object): Promise<void>;
}

/** Where a running import is (sync_cursor): which export, and how much of it is written. */
interface ImportCursor {
  stage: StoreExportKind;
  done: number;
}

function parseCursor(text: string | null): ImportCursor | null {
  if (!text) return null;
  try {
    const c = JSON.parse(text) as Partial<ImportCursor>;
    if ((c.stage === 'products' || c.stage === 'inventory') && typeof c.done === 'number') {
      return { stage: c.stage, done: c.done };
    }
  } catch {
    // A cursor of the paged import before exports: start again.
  }
  return null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Catalog import and reconciliation. The import asks the store for two exports (Shopify:
 * bulk operations), products with their variants and then stock per location, waits for
 * each (the store's webhook wakes it, polling is the fallback), and streams the result
 * into CatalogWriter in batches, saving with every batch how far it got (same
 * transaction): a crashed import resumes in the export it was reading (or starts that
 * export again when the store no longer has it). Reconciliation pages through what changed
 * since the watermark (an export when that is much), and finds deletions by ids. Every call
 * goes through StoreTokens (a token expiring mid-import is refreshed and the call repeated).
 */
@Injectable()
export class CatalogSyncService {
  private readonly logger = new Logger(CatalogSyncService.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly connections: StoreConnectionsService,
    private readonly tokens: StoreTokens,
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

  /** One store call with a live token (re-read each time: another worker may have refreshed it). */
  private async call<T>(id: string, fn: (ctx: StoreApiContext) => Promise<T>): Promise<T> {
    const conn = await this.connections.findById(id);
    if (!conn || conn.status !== 'linked') {
      throw new StoreApiError('unavailable', `store connection ${id} is no longer linked`);
    }
    return this.tokens.withToken(conn, fn);
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
      if (!conn.currency) {
        const { currency } = await this.call(conn.id, (ctx) => provider.shopInfo(ctx));
        await this.syncState.setCurrency(conn.id, currency);
      }
      let cursor = parseCursor(conn.syncCursor);
      if (!cursor) {
        // A fresh start (not a resume): count, and remember when it began (the watermark).
        const total = await this.call(conn.id, (ctx) => provider.countProducts(ctx));
        await this.syncState.importStarted(conn.id, total);
        cursor = { stage: 'products', done: 0 };
        await this.syncState.setExport(conn.id, null, JSON.stringify(cursor));
      } else {
        await this.syncState.importResumed(conn.id);
      }
      conn = (await this.connections.findById(conn.id)) ?? conn;
      const total = conn.syncTotal ?? 0;
      let imported = conn.syncImported;
      const report = () =>
        progress.updateProgress(total ? Math.min(100, Math.floor((imported / total) * 100)) : 0);
      await report();

      if (cursor.stage === 'products') {
        const url = await this.finishedExport(conn, provider, 'products', cursor);
        let done = 0;
        let batch: StoreProduct[] = [];
        const flush = async () => {
          const products = batch;
          batch = [];
          done += products.length;
          const next = JSON.stringify({ stage: 'products', done });
          await this.db.transaction(async (m) => {
            await this.writer.upsertProducts(m, conn, products, { emitEvents: false });
            await this.syncState.importPageSaved(m, conn.id, next, products.length);
          });
          imported += products.length;
          await report();
        };
        if (url) {
          let skip = cursor.done;
          for await (const p of provider.readProductExport(url)) {
            if (skip > 0) {
              skip--; // written before the crash
              done++;
              continue;
            }
            batch.push(p);
            if (batch.length >= IMPORT_BATCH) await flush();
          }
          if (batch.length > 0) await flush();
        }
        cursor = { stage: 'inventory', done: 0 };
        await this.syncState.setExport(conn.id, null, JSON.stringify(cursor));
      }

      // Stock per location: the locations first (which sell online), then every level.
      const locations = await this.call(conn.id, (ctx) => provider.listLocations(ctx));
      await this.db.transaction((m) => this.writer.setLocations(m, conn, locations));
      const url = await this.finishedExport(conn, provider, 'inventory', cursor);
      if (url) {
        let done = 0;
        let batch: StoreInventoryLevel[] = [];
        const flush = async () => {
          const levels = batch;
          batch = [];
          done += levels.length;
          const next = JSON.stringify({ stage: 'inventory', done });
          await this.db.transaction(async (m) => {
            await this.writer.upsertLevels(m, conn, levels, { emitEvents: false, tieWins: true });
            await this.syncState.importPageSaved(m, conn.id, next, 0);
          });
        };
        let skip = cursor.done;
        for await (const l of provider.readInventoryExport(url)) {
          if (skip > 0) {
            skip--;
            done++;
            continue;
          }
          batch.push(l);
          if (batch.length >= LEVELS_BATCH) await flush();
        }
        if (batch.length > 0) await flush();
      }
      await this.syncState.importFinished(conn.id);
      return { imported };
    } catch (err) {
      throw await this.failed(conn, err, finalAttempt);
    }
  }

  /**
   * The result URL of this stage's export: the one recorded on the connection when it is
   * still usable (a resume), else a new one; waits until the store has finished it. Null
   * when the export found nothing.
   */
  private async finishedExport(
    conn: StoreConnection,
    provider: StoreProvider,
    kind: StoreExportKind,
    cursor: ImportCursor,
    updatedSince?: Date | null,
  ): Promise<string | null> {
    const row = (await this.connections.findById(conn.id)) ?? conn;
    let id = row.bulkOperationId;
    if (id) {
      const st = await this.call(conn.id, (ctx) => provider.exportStatus(ctx, id!));
      if (st.status === 'completed') return st.url;
      if (st.status !== 'running') id = null; // failed, canceled or expired: ask again
    }
    if (!id) {
      const started = await this.call(conn.id, (ctx) =>
        provider.startExport(ctx, kind, updatedSince),
      );
      id = started;
      // A new export: whatever the cursor counted was of another file.
      await this.syncState.setExport(
        conn.id,
        id,
        JSON.stringify({
          stage: kind,
          done: cursor.done && row.bulkOperationId === id ? cursor.done : 0,
        }),
      );
      cursor.done = 0;
    }
    const st = await this.waitForExport(conn.id, provider, id);
    if (st.status !== 'completed') {
      await this.syncState.setExport(conn.id, null, JSON.stringify({ stage: kind, done: 0 }));
      throw new StoreApiError(
        'unavailable',
        `the store's ${kind} export ${st.status} (${st.errorCode ?? 'no code'})`,
      );
    }
    return st.url;
  }

  /** Until the export ends: woken by its webhook (bulk_finished_at), else polled. */
  private async waitForExport(
    connectionId: string,
    provider: StoreProvider,
    id: string,
  ): Promise<StoreExportStatus> {
    const started = Date.now();
    let nextPoll = started + this.config.shopify.bulkPollIntervalMs;
    for (;;) {
      const row = await this.connections.findById(connectionId);
      if (!row || row.status !== 'linked') {
        throw new StoreApiError(
          'unavailable',
          `store connection ${connectionId} is no longer linked`,
        );
      }
      if (row.bulkOperationId !== id) {
        throw new StoreApiError('unavailable', 'the import was restarted elsewhere');
      }
      if (row.bulkFinishedAt || Date.now() >= nextPoll) {
        const st = await this.call(connectionId, (ctx) => provider.exportStatus(ctx, id));
        if (st.status !== 'running') return st;
        nextPoll = Date.now() + this.config.shopify.bulkPollIntervalMs;
      }
      if (Date.now() - started > EXPORT_MAX_WAIT_MS) {
        throw new StoreApiError('unavailable', 'the store export did not finish in time');
      }
      await sleep(EXPORT_WAKE_MS);
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
      const changed = await this.call(conn.id, (ctx) => provider.countProducts(ctx, since));
      const write = async (products: StoreProduct[]) => {
        await this.db.transaction(async (m) => {
          const r = await this.writer.upsertProducts(m, conn, products, { emitEvents: true });
          applied += r.created + r.updated;
        });
      };
      if (changed > RECONCILE_EXPORT_THRESHOLD) {
        // A long gap: one export of what changed rather than many pages.
        const id = await this.call(conn.id, (ctx) => provider.startExport(ctx, 'products', since));
        await this.syncState.setExport(conn.id, id, null);
        const st = await this.waitForExport(conn.id, provider, id);
        if (st.status !== 'completed') {
          throw new StoreApiError('unavailable', `the store's export ${st.status}`);
        }
        let batch: StoreProduct[] = [];
        if (st.url) {
          for await (const p of provider.readProductExport(st.url)) {
            batch.push(p);
            if (batch.length >= IMPORT_BATCH) {
              await write(batch);
              batch = [];
            }
          }
        }
        if (batch.length) await write(batch);
        await this.syncState.setExport(conn.id, null, null);
      } else {
        let cursor: string | null = null;
        do {
          const c: string | null = cursor;
          const page: ProductPage = await this.call(conn.id, (ctx) =>
            provider.listProducts(ctx, { cursor: c, updatedSince: since }),
          );
          await write(page.products);
          cursor = page.nextCursor;
        } while (cursor);
      }
      // Stock changed since then, per location (inventory_levels/update may have been lost).
      let levelCursor: string | null = null;
      do {
        const c: string | null = levelCursor;
        const page: { levels: StoreInventoryLevel[]; nextCursor: string | null } = await this.call(
          conn.id,
          (ctx) => provider.listInventoryLevels(ctx, { cursor: c, updatedSince: since }),
        );
        await this.db.transaction((m) =>
          this.writer.upsertLevels(m, conn, page.levels, { emitEvents: true, tieWins: false }),
        );
        levelCursor = page.nextCursor;
      } while (levelCursor);
      const deleted = await this.reconcileDeletions(conn, provider, startedAt);
      await this.syncState.reconciled(conn.id, startedAt);
      return { applied, deleted };
    } catch (err) {
      throw await this.failed(conn, err, false);
    }
  }

  /**
   * Deletions leave no trace in updated_at: when we hold more products than the store
   * counts, list the store's ids (ids only) and delete ours that it no longer has.
   */
  private async reconcileDeletions(
    conn: StoreConnection,
    provider: StoreProvider,
    at: Date,
  ): Promise<number> {
    const storeCount = await this.call(conn.id, (ctx) => provider.countProducts(ctx));
    const [{ n }]: Array<{ n: number }> = await this.db.query(
      `SELECT count(*)::int AS n FROM products WHERE store_connection_id = $1 AND deleted_at IS NULL`,
      [conn.id],
    );
    if (n <= storeCount) return 0;
    const present = new Set<string>();
    let cursor: string | null = null;
    do {
      const c: string | null = cursor;
      const page: { ids: string[]; nextCursor: string | null } = await this.call(conn.id, (ctx) =>
        provider.listProductIds(ctx, { cursor: c }),
      );
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
      // Only StoreTokens reports this: the store refused the token's refresh.
      await this.syncState.syncUnauthorized(conn, safe);
      return new UnrecoverableError(safe);
    }
    await this.syncState.syncFailed(conn.id, safe, finalAttempt);
    return err instanceof StoreApiError ? new Error(safe) : (err as Error);
  }
}
