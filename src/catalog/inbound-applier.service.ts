import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { StoreConnection } from '../stores/store-connection.entity';
import { StoreConnectionsService } from '../stores/store-connections.service';
import { StoreProviders } from '../stores/store-providers';
import { CatalogWriter } from './catalog-writer.service';

/** Events applied per transaction. */
const BATCH = 100;
/** After this many failed tries an event is set aside (applied_at set, outcome "failed"). */
const MAX_ATTEMPTS = 5;

interface InboundRow {
  id: string;
  provider: string;
  shop: string;
  topic: string;
  triggered_at: Date | null;
  payload: unknown;
  attempts: number;
}

/**
 * Applies recorded inbound store events. Each batch is one transaction: the rows are
 * claimed (FOR UPDATE SKIP LOCKED, so several workers share the work), applied, and
 * marked applied together with the catalog change and its outbox events.
 */
@Injectable()
export class InboundApplier {
  private readonly logger = new Logger(InboundApplier.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly providers: StoreProviders,
    private readonly connections: StoreConnectionsService,
    private readonly writer: CatalogWriter,
  ) {}

  /** Applies every pending event; returns how many were looked at. */
  async drain(): Promise<{ applied: number; failed: number }> {
    let lastId = '0';
    let applied = 0;
    let failed = 0;
    for (;;) {
      const batch = await this.db.transaction(async (m) => {
        const rows: InboundRow[] = await m.query(
          `SELECT id, provider, shop, topic, triggered_at, payload, attempts
             FROM inbound_events
            WHERE applied_at IS NULL AND id > $1
            ORDER BY id LIMIT ${BATCH}
              FOR UPDATE SKIP LOCKED`,
          [lastId],
        );
        const conns = new Map<string, StoreConnection | null>();
        for (const row of rows) {
          await m.query('SAVEPOINT inbound_event');
          try {
            const outcome = await this.applyOne(m, row, conns);
            await m.query('RELEASE SAVEPOINT inbound_event');
            await m.query(
              `UPDATE inbound_events SET applied_at = now(), outcome = $2 WHERE id = $1`,
              [row.id, outcome],
            );
            applied++;
          } catch (err) {
            await m.query('ROLLBACK TO SAVEPOINT inbound_event');
            const giveUp = row.attempts + 1 >= MAX_ATTEMPTS;
            this.logger.warn(
              `inbound event ${row.id} (${row.topic}) failed: ${(err as Error).message}`,
            );
            await m.query(
              `UPDATE inbound_events
                  SET attempts = attempts + 1, last_error = $2,
                      applied_at = CASE WHEN $3 THEN now() END,
                      outcome = CASE WHEN $3 THEN 'failed' END
                WHERE id = $1`,
              [row.id, (err as Error).message.slice(0, 500), giveUp],
            );
            failed++;
          }
        }
        return rows;
      });
      if (batch.length > 0) lastId = batch[batch.length - 1].id;
      if (batch.length < BATCH) break;
    }
    return { applied, failed };
  }

  private async applyOne(
    m: EntityManager,
    row: InboundRow,
    conns: Map<string, StoreConnection | null>,
  ): Promise<string> {
    const provider = this.providers.find(row.provider);
    if (!provider) return 'ignored: unknown provider';
    const key = `${row.provider}|${row.shop}`;
    if (!conns.has(key)) {
      conns.set(key, await this.connections.findActiveByShop(m, row.provider, row.shop));
    }
    const conn = conns.get(key);
    if (!conn) return 'ignored: no linked connection';
    const change = provider.toChange(
      row.topic,
      row.payload,
      row.triggered_at ? new Date(row.triggered_at) : null,
    );
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
        return this.writer.setOrderStatus(m, conn, change.storeOrderId, change.status, change.at);
      case 'app.uninstalled':
        await this.connections.markRevoked(m, conn.id);
        conns.set(key, null);
        return 'revoked';
      case 'ignored':
        return `ignored: ${change.reason}`;
    }
  }
}
