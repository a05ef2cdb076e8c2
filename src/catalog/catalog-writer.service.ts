import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { updateReturning } from '../database/update-returning';
import { OutboxService } from '../notifications/outbox.service';
import type {
  StoreInventoryLevel,
  StoreLocation,
  StoreProduct,
} from '../stores/providers/store-provider';
import type { StoreConnection } from '../stores/store-connection.entity';
import { CatalogService } from './catalog.service';

type Conn = Pick<StoreConnection, 'id' | 'partnerId' | 'brandId' | 'currency'>;

export interface UpsertResult {
  created: number;
  updated: number;
  /** Versions older than (or as old as) what is stored: left alone. */
  stale: number;
  /** The versions written, by external id: which one (its updatedAt) and how. */
  written: Map<string, { updatedAt: Date; how: 'created' | 'updated' }>;
}

/** Keeps the newest version of each product of a batch (a product may appear twice). */
function newestPerProduct(products: StoreProduct[]): StoreProduct[] {
  const byId = new Map<string, StoreProduct>();
  for (const p of products) {
    const seen = byId.get(p.externalId);
    if (!seen || seen.updatedAt < p.updatedAt) byId.set(p.externalId, p);
  }
  return [...byId.values()];
}

/**
 * The one writer of the catalog (`products`, `variants` and their stock), used by the
 * import, reconciliation and inbound webhooks alike. Every write carries its freshness
 * guard in the SQL itself (the store's updated_at must be newer than the stored one), so an
 * older event never overwrites newer data and applying the same event twice changes nothing. Callers pass the transaction's
 * EntityManager: the change and its outbox events commit together.
 */
@Injectable()
export class CatalogWriter {
  constructor(
    private readonly outbox: OutboxService,
    private readonly catalog: CatalogService,
  ) {}

  async upsertProducts(
    m: EntityManager,
    conn: Conn,
    input: StoreProduct[],
    { emitEvents }: { emitEvents: boolean },
  ): Promise<UpsertResult> {
    const products = newestPerProduct(input);
    if (products.length === 0) return { created: 0, updated: 0, stale: 0, written: new Map() };

    // Quantities before the change, for inventory.updated (rows locked by the upsert below
    // are locked here first, so the comparison is against what the upsert replaces).
    const before = new Map<string, number>();
    if (emitEvents) {
      const rows: Array<{ external_id: string; inventory_quantity: number }> = await m.query(
        `SELECT v.external_id, v.inventory_quantity
           FROM products p JOIN variants v ON v.product_id = p.id
          WHERE p.store_connection_id = $1 AND p.external_id = ANY($2::text[])
          FOR UPDATE OF p, v`,
        [conn.id, products.map((p) => p.externalId)],
      );
      for (const r of rows) before.set(r.external_id, r.inventory_quantity);
    }

    const fresh: Array<{ id: string; external_id: string; inserted: boolean }> = await m.query(
      `INSERT INTO products AS p (partner_id, brand_id, store_connection_id, external_id, title,
                                 handle, status, image_url, store_updated_at)
       SELECT $1, $2, $3, x.external_id, x.title, x.handle, x.status, x.image_url, x.store_updated_at
         FROM unnest($4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::timestamptz[])
           AS x(external_id, title, handle, status, image_url, store_updated_at)
       ON CONFLICT (store_connection_id, external_id) DO UPDATE
          SET title = EXCLUDED.title, handle = EXCLUDED.handle, status = EXCLUDED.status,
              image_url = EXCLUDED.image_url, store_updated_at = EXCLUDED.store_updated_at,
              deleted_at = NULL, updated_at = now()
        WHERE p.store_updated_at < EXCLUDED.store_updated_at
       RETURNING p.id, p.external_id, (p.xmax = 0) AS inserted`,
      [
        conn.partnerId,
        conn.brandId,
        conn.id,
        products.map((p) => p.externalId),
        products.map((p) => p.title),
        products.map((p) => p.handle),
        products.map((p) => p.status),
        products.map((p) => p.imageUrl),
        products.map((p) => p.updatedAt.toISOString()),
      ],
    );
    if (fresh.length === 0) {
      return { created: 0, updated: 0, stale: products.length, written: new Map() };
    }

    const idOf = new Map(fresh.map((r) => [r.external_id, r.id]));
    const cols = {
      productId: [] as string[],
      externalId: [] as string[],
      inventoryItemId: [] as Array<string | null>,
      sku: [] as Array<string | null>,
      title: [] as string[],
      price: [] as string[],
      position: [] as number[],
      quantity: [] as number[],
      tracked: [] as boolean[],
      policy: [] as string[],
      at: [] as string[],
    };
    for (const p of products) {
      const productId = idOf.get(p.externalId);
      if (!productId) continue;
      const seen = new Set<string>();
      for (const v of p.variants) {
        if (seen.has(v.externalId)) continue;
        seen.add(v.externalId);
        cols.productId.push(productId);
        cols.externalId.push(v.externalId);
        cols.inventoryItemId.push(v.inventoryItemId);
        cols.sku.push(v.sku);
        cols.title.push(v.title);
        cols.price.push(v.price);
        cols.position.push(v.position);
        cols.quantity.push(v.inventoryQuantity);
        cols.tracked.push(v.inventoryTracked);
        cols.policy.push(v.inventoryPolicy);
        cols.at.push(p.updatedAt.toISOString());
      }
    }
    if (cols.externalId.length > 0) {
      await m.query(
        `INSERT INTO variants AS v (product_id, store_connection_id, external_id, inventory_item_id,
                                   sku, title, price, position, inventory_quantity,
                                   inventory_tracked, inventory_policy, inventory_updated_at)
         SELECT x.product_id, $1, x.external_id, x.inventory_item_id, x.sku, x.title, x.price,
                x.position, x.quantity, x.tracked, x.policy, x.at
           FROM unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::numeric[],
                       $8::int[], $9::int[], $10::bool[], $11::text[], $12::timestamptz[])
             AS x(product_id, external_id, inventory_item_id, sku, title, price, position,
                  quantity, tracked, policy, at)
         ON CONFLICT (store_connection_id, external_id) DO UPDATE
            SET product_id = EXCLUDED.product_id, inventory_item_id = EXCLUDED.inventory_item_id,
                sku = EXCLUDED.sku, title = EXCLUDED.title, price = EXCLUDED.price,
                position = EXCLUDED.position, inventory_tracked = EXCLUDED.inventory_tracked,
                inventory_policy = EXCLUDED.inventory_policy,
                -- stock has its own clock (inventory_levels/update may be newer than the product)
                inventory_quantity = CASE WHEN v.inventory_updated_at <= EXCLUDED.inventory_updated_at
                                          THEN EXCLUDED.inventory_quantity ELSE v.inventory_quantity END,
                inventory_updated_at = GREATEST(v.inventory_updated_at, EXCLUDED.inventory_updated_at),
                updated_at = now()`,
        [
          conn.id,
          cols.productId,
          cols.externalId,
          cols.inventoryItemId,
          cols.sku,
          cols.title,
          cols.price,
          cols.position,
          cols.quantity,
          cols.tracked,
          cols.policy,
          cols.at,
        ],
      );
    }
    // Stock per location, where known, outranks the product's own total.
    const items = cols.inventoryItemId.filter((x): x is string => x !== null);
    if (items.length > 0) await this.recomputeStock(m, conn, items, false);
    // Variants the store no longer lists for these products.
    await m.query(
      `DELETE FROM variants v
        WHERE v.product_id = ANY($1::uuid[])
          AND NOT EXISTS (SELECT 1 FROM unnest($2::text[]) AS x(id) WHERE x.id = v.external_id)`,
      [fresh.map((r) => r.id), cols.externalId],
    );

    const created = fresh.filter((r) => r.inserted).length;
    if (emitEvents) {
      const views = await this.catalog.loadProducts(
        m,
        fresh.map((r) => r.id),
        conn.currency,
      );
      for (const r of fresh) {
        const view = views.get(r.id);
        if (!view) continue;
        await this.outbox.record(
          m,
          conn.partnerId,
          r.inserted ? 'product.created' : 'product.updated',
          { ...view },
        );
        for (const v of view.variants) {
          const previous = before.get(v.externalId);
          if (!r.inserted && previous !== undefined && previous !== v.inventoryQuantity) {
            await this.outbox.record(m, conn.partnerId, 'inventory.updated', {
              productId: view.id,
              brandId: view.brandId,
              variantId: v.id,
              externalId: v.externalId,
              inventoryQuantity: v.inventoryQuantity,
              previousQuantity: previous,
              available: v.available,
            });
          }
        }
      }
    }
    const versionOf = new Map(products.map((p) => [p.externalId, p.updatedAt]));
    const written = new Map(
      fresh.map((r) => [
        r.external_id,
        {
          updatedAt: versionOf.get(r.external_id)!,
          how: r.inserted ? ('created' as const) : ('updated' as const),
        },
      ]),
    );
    return {
      created,
      updated: fresh.length - created,
      stale: products.length - fresh.length,
      written,
    };
  }

  /** products/delete: marks it deleted unless a newer version is stored. */
  async deleteProduct(
    m: EntityManager,
    conn: Conn,
    externalId: string,
    at: Date,
  ): Promise<boolean> {
    const rows = await updateReturning<{ id: string }>(
      m,
      `UPDATE products SET deleted_at = $3, store_updated_at = $3, updated_at = now()
        WHERE store_connection_id = $1 AND external_id = $2 AND deleted_at IS NULL
          AND store_updated_at <= $3
       RETURNING id`,
      [conn.id, externalId, at.toISOString()],
    );
    if (rows.length === 0) return false;
    await this.outbox.record(m, conn.partnerId, 'product.deleted', {
      productId: rows[0].id,
      brandId: conn.brandId,
      externalId,
    });
    return true;
  }

  /** The store's locations (which of them sell online decides the variants' sellable stock). */
  async setLocations(m: EntityManager, conn: Conn, locations: StoreLocation[]): Promise<void> {
    await m.query(
      `INSERT INTO store_locations AS l (store_connection_id, location_id, name, active, sells_online)
       SELECT $1, x.id, x.name, x.active, x.online
         FROM unnest($2::text[], $3::text[], $4::bool[], $5::bool[]) AS x(id, name, active, online)
       ON CONFLICT (store_connection_id, location_id) DO UPDATE
          SET name = EXCLUDED.name, active = EXCLUDED.active, sells_online = EXCLUDED.sells_online,
              updated_at = now()`,
      [
        conn.id,
        locations.map((l) => l.externalId),
        locations.map((l) => l.name),
        locations.map((l) => l.active),
        locations.map((l) => l.sellsOnline),
      ],
    );
    await m.query(
      `DELETE FROM store_locations WHERE store_connection_id = $1 AND NOT (location_id = ANY($2::text[]))`,
      [conn.id, locations.map((l) => l.externalId)],
    );
  }

  /**
   * Stock per (inventory item, location), each level with its own freshness guard (`<` for
   * webhooks; `<=` for imports, whose snapshot wins a tie), only for items of this
   * connection's variants; then the variants' sellable stock recomputed from them.
   */
  async upsertLevels(
    m: EntityManager,
    conn: Conn,
    levels: StoreInventoryLevel[],
    { emitEvents, tieWins }: { emitEvents: boolean; tieWins: boolean },
  ): Promise<number> {
    if (levels.length === 0) return 0;
    const newest = new Map<string, StoreInventoryLevel>();
    for (const l of levels) {
      const k = `${l.inventoryItemId}\u0000${l.locationId}`;
      const seen = newest.get(k);
      if (!seen || seen.at <= l.at) newest.set(k, l);
    }
    const rows = [...newest.values()];
    const written: Array<{ inventory_item_id: string }> = await m.query(
      `INSERT INTO inventory_levels AS l (store_connection_id, inventory_item_id, location_id, available, store_updated_at)
       SELECT $1, x.item, x.loc, x.available, x.at
         FROM unnest($2::text[], $3::text[], $4::int[], $5::timestamptz[]) AS x(item, loc, available, at)
        WHERE EXISTS (SELECT 1 FROM variants v WHERE v.store_connection_id = $1 AND v.inventory_item_id = x.item)
       ON CONFLICT (store_connection_id, inventory_item_id, location_id) DO UPDATE
          SET available = EXCLUDED.available, store_updated_at = EXCLUDED.store_updated_at
        WHERE l.store_updated_at ${tieWins ? '<=' : '<'} EXCLUDED.store_updated_at
       RETURNING l.inventory_item_id`,
      [
        conn.id,
        rows.map((l) => l.inventoryItemId),
        rows.map((l) => l.locationId),
        rows.map((l) => l.available),
        rows.map((l) => l.at.toISOString()),
      ],
    );
    if (written.length === 0) return 0;
    await this.recomputeStock(
      m,
      conn,
      [...new Set(written.map((r) => r.inventory_item_id))],
      emitEvents,
    );
    return written.length;
  }

  /**
   * A variant's stock (`inventory_quantity`, the API's inventoryQuantity/available) is the
   * sum of its levels at the active locations that sell online (locations not known yet
   * count). Variants without levels keep the figure their product carries.
   */
  async recomputeStock(
    m: EntityManager,
    conn: Conn,
    inventoryItemIds: string[],
    emitEvents: boolean,
  ): Promise<void> {
    if (inventoryItemIds.length === 0) return;
    // (An UPDATE … RETURNING answers [rows, count] through TypeORM: updateReturning unwraps it.)
    const rows = await updateReturning<{
      id: string;
      product_id: string;
      external_id: string;
      previous: number;
      inventory_quantity: number;
      inventory_tracked: boolean;
      inventory_policy: string;
    }>(
      m,
      `WITH s AS (
         SELECT l.inventory_item_id,
                COALESCE(SUM(l.available) FILTER (
                  WHERE loc.location_id IS NULL OR (loc.active AND loc.sells_online)), 0)::int AS total
           FROM inventory_levels l
           LEFT JOIN store_locations loc
             ON loc.store_connection_id = l.store_connection_id AND loc.location_id = l.location_id
          WHERE l.store_connection_id = $1 AND l.inventory_item_id = ANY($2::text[])
          GROUP BY l.inventory_item_id),
       old AS (
         SELECT v.id, v.inventory_quantity, s.total
           FROM variants v JOIN s ON s.inventory_item_id = v.inventory_item_id
          WHERE v.store_connection_id = $1 AND v.inventory_quantity <> s.total
          FOR UPDATE OF v)
       UPDATE variants v
          SET inventory_quantity = old.total,
              inventory_updated_at = GREATEST(v.inventory_updated_at, now()), updated_at = now()
         FROM old
        WHERE v.id = old.id
       RETURNING v.id, v.product_id, v.external_id, old.inventory_quantity AS previous,
                 v.inventory_quantity, v.inventory_tracked, v.inventory_policy`,
      [conn.id, inventoryItemIds],
    );
    if (!emitEvents) return;
    for (const r of rows) {
      await this.outbox.record(m, conn.partnerId, 'inventory.updated', {
        productId: r.product_id,
        brandId: conn.brandId,
        variantId: r.id,
        externalId: r.external_id,
        inventoryQuantity: r.inventory_quantity,
        previousQuantity: r.previous,
        available: CatalogService.isAvailable(r),
      });
    }
  }

  /**
   * shop/redact: everything of the catalog this connection holds (products, variants,
   * stock levels, locations) deleted, no events (the partner's view of a shop that is gone).
   */
  async eraseConnection(
    m: EntityManager,
    conn: Pick<StoreConnection, 'id'>,
  ): Promise<{ products: number; variants: number; levels: number; locations: number }> {
    const count = async (sql: string): Promise<number> => {
      const res: [unknown[], number] = await m.query(sql, [conn.id]);
      return res[1];
    };
    const levels = await count(`DELETE FROM inventory_levels WHERE store_connection_id = $1`);
    const locations = await count(`DELETE FROM store_locations WHERE store_connection_id = $1`);
    const variants = await count(`DELETE FROM variants WHERE store_connection_id = $1`);
    const products = await count(`DELETE FROM products WHERE store_connection_id = $1`);
    return { products, variants, levels, locations };
  }

  /** inventory_levels/update: the variant's stock, unless a newer stock figure is stored. */
  async setInventory(
    m: EntityManager,
    conn: Conn,
    inventoryItemId: string,
    available: number,
    at: Date,
  ): Promise<boolean> {
    const rows = await updateReturning<{
      id: string;
      product_id: string;
      external_id: string;
      previous: number;
      inventory_quantity: number;
      inventory_tracked: boolean;
      inventory_policy: string;
    }>(
      m,
      `WITH old AS (
         SELECT id, inventory_quantity FROM variants
          WHERE store_connection_id = $1 AND inventory_item_id = $2 FOR UPDATE)
       UPDATE variants v
          SET inventory_quantity = $3, inventory_updated_at = $4, updated_at = now()
         FROM old
        WHERE v.id = old.id AND v.inventory_updated_at < $4
       RETURNING v.id, v.product_id, v.external_id, old.inventory_quantity AS previous,
                 v.inventory_quantity, v.inventory_tracked, v.inventory_policy`,
      [conn.id, inventoryItemId, available, at.toISOString()],
    );
    for (const r of rows) {
      if (r.previous === r.inventory_quantity) continue;
      await this.outbox.record(m, conn.partnerId, 'inventory.updated', {
        productId: r.product_id,
        brandId: conn.brandId,
        variantId: r.id,
        externalId: r.external_id,
        inventoryQuantity: r.inventory_quantity,
        previousQuantity: r.previous,
        available: CatalogService.isAvailable(r),
      });
    }
    return rows.length > 0;
  }
}
