import { Injectable, Logger } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { OrderStatusService } from '../shopping/orders/order-status.service';
import type { StoreChange, StoreProduct } from '../stores/providers/store-provider';
import { StoreConnection } from '../stores/store-connection.entity';
import { StoreConnectionSyncState } from '../stores/store-connection-sync-state.service';
import { StoreConnectionsService } from '../stores/store-connections.service';
import { StoreProviders } from '../stores/store-providers';
import {
  InboundEventSource,
  PendingInboundEvent,
} from '../stores/webhooks/inbound-event-source.service';
import { CatalogWriter } from './catalog-writer.service';

/** Events applied per transaction. */
export const INBOUND_BATCH = 100;
/** After this many failed tries an event is set aside (applied_at set, outcome "failed"). */
export const INBOUND_MAX_ATTEMPTS = 5;

/**
 * Applies recorded inbound store events. Each batch is one transaction of the event
 * source: the events are claimed, translated by their provider, applied through the owner
 * of what they change (CatalogWriter: products, variants, stock; OrderStatusService:
 * orders; StoreConnectionSyncState: app/uninstalled), and marked applied together with
 * that change and its outbox events (the dedupe and the change commit together). A batch
 * that fails is redone event by event, each in a savepoint: a failing event fails alone
 * and is retried by the next drain, then set aside after INBOUND_MAX_ATTEMPTS tries.
 */
@Injectable()
export class InboundApplier {
  private readonly logger = new Logger(InboundApplier.name);

  constructor(
    private readonly events: InboundEventSource,
    private readonly providers: StoreProviders,
    private readonly connections: StoreConnectionsService,
    private readonly syncState: StoreConnectionSyncState,
    private readonly writer: CatalogWriter,
    private readonly orders: OrderStatusService,
  ) {}

  /** Applies every pending event. */
  async drain(): Promise<{ applied: number; failed: number }> {
    let lastId = '0';
    let applied = 0;
    let failed = 0;
    for (;;) {
      let ids: string[] = [];
      try {
        // Fast path: the whole batch in one transaction, marked applied in one statement.
        ids = await this.events.withClaimed(lastId, INBOUND_BATCH, async (m, rows) => {
          const outcomes = await this.applyBatch(m, rows);
          await this.events.markApplied(
            m,
            rows.map((r) => r.id),
            outcomes,
          );
          return rows.map((r) => r.id);
        });
        applied += ids.length;
      } catch {
        // One event failed and took the batch down with it: redo it one event at a time.
        const r = await this.drainOneByOne(lastId);
        ids = r.ids;
        applied += r.applied;
        failed += r.failed;
      }
      if (ids.length > 0) lastId = ids[ids.length - 1];
      if (ids.length < INBOUND_BATCH) break;
    }
    return { applied, failed };
  }

  /**
   * Forgets applied events older than the dedupe window (Shopify retries a webhook for
   * about 48 hours; the window is longer). Pending ones are never deleted.
   */
  prune(olderThanDays: number): Promise<{ deleted: number }> {
    return this.events.pruneApplied(olderThanDays);
  }

  /** The slow path: a savepoint per event, so a failing event fails alone (and is retried). */
  private drainOneByOne(
    afterId: string,
  ): Promise<{ ids: string[]; applied: number; failed: number }> {
    return this.events.withClaimed(afterId, INBOUND_BATCH, async (m, rows) => {
      const conns = new Map<string, StoreConnection | null>();
      let applied = 0;
      let failed = 0;
      for (const row of rows) {
        try {
          const outcome = await this.events.inSavepoint(m, () => this.applyOne(m, row, conns));
          await this.events.markApplied(m, [row.id], [outcome]);
          applied++;
        } catch (err) {
          // The cache may hold what the undone savepoint saw: read connections again.
          conns.clear();
          const giveUp = row.attempts + 1 >= INBOUND_MAX_ATTEMPTS;
          this.logger.warn(
            `inbound event ${row.id} (${row.topic}) failed: ${(err as Error).message}`,
          );
          await this.events.markFailed(m, row.id, (err as Error).message, giveUp);
          failed++;
        }
      }
      return { ids: rows.map((r) => r.id), applied, failed };
    });
  }

  /**
   * Applies a batch in one go: the product versions of all its events are written with one
   * bulk upsert per connection (the newest of each product wins, as the freshness guard
   * would decide anyway); the other events one by one. Every write is guarded by store
   * time, so the order inside a batch does not change the result.
   */
  private async applyBatch(m: EntityManager, rows: PendingInboundEvent[]): Promise<string[]> {
    const conns = new Map<string, StoreConnection | null>();
    const outcomes: string[] = new Array<string>(rows.length);
    const upserts = new Map<
      string,
      { conn: StoreConnection; items: Array<{ i: number; product: StoreProduct }> }
    >();
    for (const [i, row] of rows.entries()) {
      const resolved = await this.resolve(m, row, conns);
      if (typeof resolved === 'string') {
        outcomes[i] = resolved;
        continue;
      }
      const { conn, change } = resolved;
      if (change.kind !== 'product.upsert') {
        outcomes[i] = await this.applyChange(m, conn, change, conns, row);
        continue;
      }
      const group = upserts.get(conn.id) ?? { conn, items: [] };
      group.items.push({ i, product: change.product });
      upserts.set(conn.id, group);
    }
    for (const { conn, items } of upserts.values()) {
      const r = await this.writer.upsertProducts(
        m,
        conn,
        items.map((x) => x.product),
        { emitEvents: true },
      );
      for (const { i, product } of items) {
        const w = r.written.get(product.externalId);
        outcomes[i] = w && w.updatedAt.getTime() === product.updatedAt.getTime() ? w.how : 'stale';
      }
    }
    return outcomes;
  }

  private async resolve(
    m: EntityManager,
    row: PendingInboundEvent,
    conns: Map<string, StoreConnection | null>,
  ): Promise<string | { conn: StoreConnection; change: StoreChange }> {
    const provider = this.providers.find(row.provider);
    if (!provider) return 'ignored: unknown provider';
    const key = `${row.provider}|${row.shop}`;
    if (!conns.has(key)) {
      conns.set(key, await this.connections.findActiveByShop(m, row.provider, row.shop));
    }
    const conn = conns.get(key);
    if (!conn) return 'ignored: no linked connection';
    const change = provider.toChange(row.topic, JSON.parse(row.payload), row.triggeredAt);
    if (
      (change.kind === 'product.upsert' || change.kind === 'product.delete') &&
      (await this.connections.productBelongsElsewhere(
        m,
        conn,
        change.kind === 'product.upsert' ? change.product.externalId : change.externalId,
      ))
    ) {
      // Only the body is signed: a product another connected shop holds, sent under this
      // shop's header, is a replay with a forged header.
      return 'ignored: the product belongs to another shop';
    }
    return { conn, change };
  }

  private async applyOne(
    m: EntityManager,
    row: PendingInboundEvent,
    conns: Map<string, StoreConnection | null>,
  ): Promise<string> {
    const resolved = await this.resolve(m, row, conns);
    if (typeof resolved === 'string') return resolved;
    return this.applyChange(m, resolved.conn, resolved.change, conns, row);
  }

  private async applyChange(
    m: EntityManager,
    conn: StoreConnection,
    change: StoreChange,
    conns: Map<string, StoreConnection | null>,
    row: PendingInboundEvent,
  ): Promise<string> {
    switch (change.kind) {
      case 'product.upsert': {
        const r = await this.writer.upsertProducts(m, conn, [change.product], { emitEvents: true });
        return r.stale ? 'stale' : r.created ? 'created' : 'updated';
      }
      case 'product.delete':
        return (await this.writer.deleteProduct(m, conn, change.externalId, change.at))
          ? 'deleted'
          : 'stale';
      case 'inventory.level':
        if (change.locationId) {
          // This location's level only; the variant's stock is recomputed from all of them.
          const n = await this.writer.upsertLevels(
            m,
            conn,
            [
              {
                inventoryItemId: change.inventoryItemId,
                locationId: change.locationId,
                available: change.available,
                at: change.at,
              },
            ],
            { emitEvents: true, tieWins: false },
          );
          return n > 0 ? 'updated' : 'stale';
        }
        return (await this.writer.setInventory(
          m,
          conn,
          change.inventoryItemId,
          change.available,
          change.at,
        ))
          ? 'updated'
          : 'stale';
      case 'order.status':
        return this.orders.applyStoreStatus(m, conn, change.storeOrderId, change.status, change.at);
      case 'export.finished':
        return (await this.syncState.exportFinished(m, conn.id, change.exportId))
          ? 'export finished'
          : 'ignored: not the export this connection waits for';
      case 'app.uninstalled':
        // Only the body is signed: the shop it names must be the header's (a replayed
        // uninstall of shop A sent with shop B's domain revokes nothing).
        if (change.shop !== row.shop) return 'ignored: the body names another shop';
        await this.syncState.revoke(m, conn.id, 'store');
        // Later events of this shop in the batch find no connection.
        conns.set(`${row.provider}|${row.shop}`, null);
        return 'revoked';
      case 'ignored':
        return `ignored: ${change.reason}`;
    }
  }
}
