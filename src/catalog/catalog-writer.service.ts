import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { updateReturning } from '../database/update-returning';
import { OutboxService } from '../notifications/outbox.service';
import type { StoreProduct } from '../stores/providers/store-provider';
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
    // Variants the store no longer lists for these products.
    await m.query(
      `DELETE FROM variants WHERE product_id = ANY($1::uuid[]) AND NOT (external_id = ANY($2::text[]))`,
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
