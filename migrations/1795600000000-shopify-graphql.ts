import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Shopify as it is today (issue #16): expiring offline tokens (the refresh token sealed
 * beside the access token, both expiries), the bulk operation of a running import, stock
 * per (variant, location) and the store's locations, and the mandatory compliance requests.
 */
export class ShopifyGraphql1795600000000 implements MigrationInterface {
  name = 'ShopifyGraphql1795600000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE "store_connections"
        ADD COLUMN "access_token_expires_at" TIMESTAMP(3) WITH TIME ZONE,
        ADD COLUMN "refresh_token_sealed" text,
        ADD COLUMN "refresh_token_key_id" text,
        ADD COLUMN "refresh_token_expires_at" TIMESTAMP(3) WITH TIME ZONE,
        ADD COLUMN "bulk_operation_id" text,
        ADD COLUMN "bulk_finished_at" TIMESTAMP(3) WITH TIME ZONE`);
    await q.query(`
      CREATE TABLE "store_locations" (
        "store_connection_id" uuid NOT NULL,
        "location_id" text NOT NULL,
        "name" text NOT NULL,
        "active" boolean NOT NULL,
        "sells_online" boolean NOT NULL,
        "updated_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "pk_store_locations" PRIMARY KEY ("store_connection_id", "location_id"),
        CONSTRAINT "fk_store_locations_connection" FOREIGN KEY ("store_connection_id")
          REFERENCES "store_connections"("id") ON DELETE CASCADE
      )`);
    await q.query(`
      CREATE TABLE "inventory_levels" (
        "store_connection_id" uuid NOT NULL,
        "inventory_item_id" text NOT NULL,
        "location_id" text NOT NULL,
        "available" integer NOT NULL,
        "store_updated_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL,
        CONSTRAINT "pk_inventory_levels" PRIMARY KEY ("store_connection_id", "inventory_item_id", "location_id"),
        CONSTRAINT "fk_inventory_levels_connection" FOREIGN KEY ("store_connection_id")
          REFERENCES "store_connections"("id") ON DELETE CASCADE
      )`);
    // Which shop a product id belongs to (a webhook's shop header is not signed).
    await q.query(`CREATE INDEX "ix_products_external_id" ON "products" ("external_id")`);
    await q.query(`
      CREATE TABLE "compliance_requests" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "provider" text NOT NULL,
        "topic" text NOT NULL,
        "event_key" text NOT NULL,
        "store_connection_id" uuid,
        "shop" text NOT NULL,
        "payload_sealed" text NOT NULL,
        "payload_key_id" text NOT NULL,
        "status" text NOT NULL DEFAULT 'pending',
        "outcome" jsonb,
        "received_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(),
        "completed_at" TIMESTAMP(3) WITH TIME ZONE,
        CONSTRAINT "pk_compliance_requests" PRIMARY KEY ("id"),
        CONSTRAINT "ck_compliance_requests_status" CHECK (status IN ('pending', 'completed')),
        CONSTRAINT "fk_compliance_requests_connection" FOREIGN KEY ("store_connection_id")
          REFERENCES "store_connections"("id") ON DELETE SET NULL
      )`);
    await q.query(
      `CREATE UNIQUE INDEX "ux_compliance_requests_event" ON "compliance_requests" ("provider", "event_key")`,
    );
    await q.query(
      `CREATE INDEX "ix_compliance_requests_pending" ON "compliance_requests" ("received_at") WHERE status = 'pending'`,
    );
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "compliance_requests"`);
    await q.query(`DROP INDEX "ix_products_external_id"`);
    await q.query(`DROP TABLE "inventory_levels"`);
    await q.query(`DROP TABLE "store_locations"`);
    await q.query(`
      ALTER TABLE "store_connections"
        DROP COLUMN "access_token_expires_at", DROP COLUMN "refresh_token_sealed",
        DROP COLUMN "refresh_token_key_id", DROP COLUMN "refresh_token_expires_at",
        DROP COLUMN "bulk_operation_id", DROP COLUMN "bulk_finished_at"`);
  }
}
