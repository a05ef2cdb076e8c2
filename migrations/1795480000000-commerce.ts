import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Commerce sync: store connections (OAuth), the catalog (products, variants, stock),
 * inbound store events (deduplicated on the provider's event id) and a minimal orders
 * table, only what matching store order ids needs (the orders API extends it later).
 */
export class Commerce1795480000000 implements MigrationInterface {
  name = 'Commerce1795480000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "store_connections" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "partner_id" uuid NOT NULL,
        "brand_id" uuid NOT NULL,
        "provider" text NOT NULL,
        "shop" text NOT NULL,
        "status" text NOT NULL DEFAULT 'pending',
        "scopes" text array NOT NULL DEFAULT '{}',
        "return_url" text NOT NULL,
        "state_hash" bytea,
        "state_expires_at" TIMESTAMP WITH TIME ZONE,
        "pkce_verifier_sealed" text,
        "pkce_verifier_key_id" text,
        "access_token_sealed" text,
        "access_token_key_id" text,
        "webhook_ids" jsonb NOT NULL DEFAULT '[]',
        "currency" text,
        "sync_state" text NOT NULL DEFAULT 'idle',
        "sync_imported" integer NOT NULL DEFAULT 0,
        "sync_total" integer,
        "sync_cursor" text,
        "sync_started_at" TIMESTAMP WITH TIME ZONE,
        "sync_watermark" TIMESTAMP WITH TIME ZONE,
        "last_synced_at" TIMESTAMP WITH TIME ZONE,
        "last_error" text,
        "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(),
        "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "pk_store_connections" PRIMARY KEY ("id"),
        CONSTRAINT "ck_store_connections_status" CHECK ("status" IN ('pending', 'linked', 'needs_relink', 'revoked')),
        CONSTRAINT "ck_store_connections_sync_state" CHECK ("sync_state" IN ('idle', 'running', 'failed'))
      )`);
    await q.query(
      `CREATE INDEX "ix_store_connections_brand" ON "store_connections" ("brand_id", "created_at", "id")`,
    );
    await q.query(
      `CREATE UNIQUE INDEX "ux_store_connections_brand_shop" ON "store_connections" ("brand_id", "provider", "shop")`,
    );
    // One active link per store: inbound webhooks are routed by (provider, shop).
    await q.query(
      `CREATE UNIQUE INDEX "ux_store_connections_active_shop" ON "store_connections" ("provider", "shop") WHERE status IN ('linked', 'needs_relink')`,
    );
    await q.query(
      `CREATE UNIQUE INDEX "ux_store_connections_state" ON "store_connections" ("state_hash") WHERE state_hash IS NOT NULL`,
    );
    await q.query(
      `ALTER TABLE "store_connections" ADD CONSTRAINT "fk_store_connections_partner" FOREIGN KEY ("partner_id") REFERENCES "partners"("id") ON DELETE CASCADE`,
    );
    await q.query(
      `ALTER TABLE "store_connections" ADD CONSTRAINT "fk_store_connections_brand" FOREIGN KEY ("brand_id") REFERENCES "brands"("id") ON DELETE CASCADE`,
    );

    await q.query(`
      CREATE TABLE "products" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "partner_id" uuid NOT NULL,
        "brand_id" uuid NOT NULL,
        "store_connection_id" uuid NOT NULL,
        "external_id" text NOT NULL,
        "title" text NOT NULL,
        "handle" text NOT NULL DEFAULT '',
        "status" text NOT NULL DEFAULT 'active',
        "image_url" text,
        "store_updated_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL,
        "deleted_at" TIMESTAMP WITH TIME ZONE,
        "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(),
        "updated_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "pk_products" PRIMARY KEY ("id")
      )`);
    await q.query(
      `CREATE UNIQUE INDEX "ux_products_external" ON "products" ("store_connection_id", "external_id")`,
    );
    await q.query(
      `CREATE INDEX "ix_products_brand_page" ON "products" ("brand_id", "created_at", "id") WHERE deleted_at IS NULL`,
    );
    await q.query(
      `ALTER TABLE "products" ADD CONSTRAINT "fk_products_brand" FOREIGN KEY ("brand_id") REFERENCES "brands"("id") ON DELETE CASCADE`,
    );
    await q.query(
      `ALTER TABLE "products" ADD CONSTRAINT "fk_products_store_connection" FOREIGN KEY ("store_connection_id") REFERENCES "store_connections"("id") ON DELETE CASCADE`,
    );

    await q.query(`
      CREATE TABLE "variants" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "product_id" uuid NOT NULL,
        "store_connection_id" uuid NOT NULL,
        "external_id" text NOT NULL,
        "inventory_item_id" text,
        "sku" text,
        "title" text NOT NULL DEFAULT '',
        "price" numeric(14, 2) NOT NULL,
        "position" integer NOT NULL DEFAULT 0,
        "inventory_quantity" integer NOT NULL DEFAULT 0,
        "inventory_tracked" boolean NOT NULL DEFAULT true,
        "inventory_policy" text NOT NULL DEFAULT 'deny',
        "inventory_updated_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL,
        "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(),
        "updated_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "pk_variants" PRIMARY KEY ("id")
      )`);
    await q.query(
      `CREATE UNIQUE INDEX "ux_variants_external" ON "variants" ("store_connection_id", "external_id")`,
    );
    await q.query(`CREATE INDEX "ix_variants_product" ON "variants" ("product_id", "position")`);
    await q.query(
      `CREATE INDEX "ix_variants_inventory_item" ON "variants" ("store_connection_id", "inventory_item_id")`,
    );
    await q.query(
      `ALTER TABLE "variants" ADD CONSTRAINT "fk_variants_product" FOREIGN KEY ("product_id") REFERENCES "products"("id") ON DELETE CASCADE`,
    );

    await q.query(`
      CREATE TABLE "inbound_events" (
        "id" bigserial NOT NULL,
        "provider" text NOT NULL,
        "event_key" text NOT NULL,
        "shop" text NOT NULL,
        "topic" text NOT NULL,
        "triggered_at" TIMESTAMP(3) WITH TIME ZONE,
        "payload" jsonb NOT NULL,
        "received_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(),
        "applied_at" TIMESTAMP(3) WITH TIME ZONE,
        "outcome" text,
        "attempts" integer NOT NULL DEFAULT 0,
        "last_error" text,
        CONSTRAINT "pk_inbound_events" PRIMARY KEY ("id")
      )`);
    await q.query(
      `CREATE UNIQUE INDEX "ux_inbound_events_key" ON "inbound_events" ("provider", "event_key")`,
    );
    await q.query(
      `CREATE INDEX "ix_inbound_events_pending" ON "inbound_events" ("id") WHERE applied_at IS NULL`,
    );

    // Minimal on purpose: the orders API (next issue) adds to it. Webhooks match on
    // (store_connection_id, store_order_id) and move `status` forward.
    await q.query(`
      CREATE TABLE "orders" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "partner_id" uuid NOT NULL,
        "brand_id" uuid NOT NULL,
        "store_connection_id" uuid,
        "external_id" text NOT NULL,
        "status" text NOT NULL DEFAULT 'pending',
        "store_order_id" text,
        "store_updated_at" TIMESTAMP(3) WITH TIME ZONE,
        "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(),
        "updated_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "pk_orders" PRIMARY KEY ("id")
      )`);
    await q.query(
      `CREATE UNIQUE INDEX "ux_orders_partner_external" ON "orders" ("partner_id", "external_id")`,
    );
    await q.query(
      `CREATE UNIQUE INDEX "ux_orders_store_order" ON "orders" ("store_connection_id", "store_order_id") WHERE store_order_id IS NOT NULL`,
    );
    await q.query(
      `ALTER TABLE "orders" ADD CONSTRAINT "fk_orders_partner" FOREIGN KEY ("partner_id") REFERENCES "partners"("id") ON DELETE CASCADE`,
    );
    await q.query(
      `ALTER TABLE "orders" ADD CONSTRAINT "fk_orders_brand" FOREIGN KEY ("brand_id") REFERENCES "brands"("id") ON DELETE CASCADE`,
    );
    await q.query(
      `ALTER TABLE "orders" ADD CONSTRAINT "fk_orders_store_connection" FOREIGN KEY ("store_connection_id") REFERENCES "store_connections"("id") ON DELETE SET NULL`,
    );
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "orders"`);
    await q.query(`DROP TABLE "inbound_events"`);
    await q.query(`DROP TABLE "variants"`);
    await q.query(`DROP TABLE "products"`);
    await q.query(`DROP TABLE "store_connections"`);
  }
}
