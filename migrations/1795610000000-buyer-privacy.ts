import { MigrationInterface, QueryRunner } from 'typeorm';
import { SecretBox } from '../src/common/secret-box';
import { migrationKeys } from './migration-keys';

/**
 * Buyers' privacy (API.md "Buyers' privacy"):
 * - `orders.customer` (clear jsonb) becomes `customer_sealed` + `customer_key_id` (SecretBox,
 *   AAD `order:<id>:customer`), with a keyed blind index of the buyer's email
 *   (`customer_email_index`), `final_at` (when the order reached a final state: retention
 *   counts from it) and `customer_erased_at`. Rows kept in clear before are sealed here.
 * - `privacy_requests`: export/erase requests per buyer, kept as the audit record (who, when,
 *   how many orders, which partners were told; never the data).
 */
export class BuyerPrivacy1795610000000 implements MigrationInterface {
  name = 'BuyerPrivacy1795610000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE "orders"
        ADD COLUMN "customer_sealed" text,
        ADD COLUMN "customer_key_id" text,
        ADD COLUMN "customer_email_index" bytea,
        ADD COLUMN "final_at" TIMESTAMP(3) WITH TIME ZONE,
        ADD COLUMN "customer_erased_at" TIMESTAMP(3) WITH TIME ZONE`);
    const legacy: Array<{ id: string; customer: Record<string, unknown> }> = await q.query(
      `SELECT id, customer FROM orders WHERE customer IS NOT NULL`,
    );
    if (legacy.length > 0) {
      // The same sealing and index as OrderBuyerData (src/shopping/orders/order-buyer-data.ts).
      const { sealBuyer } = await import('../src/shopping/orders/buyer-record');
      const box = new SecretBox(migrationKeys());
      for (const row of legacy) {
        const s = sealBuyer(box, row.id, row.customer as never);
        await q.query(
          `UPDATE orders SET customer_sealed = $2, customer_key_id = $3, customer_email_index = $4 WHERE id = $1`,
          [row.id, s.sealed, s.keyId, s.emailIndex],
        );
      }
    }
    await q.query(`ALTER TABLE "orders" DROP COLUMN "customer"`);
    await q.query(`
      UPDATE orders SET final_at = updated_at
       WHERE status IN ('fulfilled', 'cancelled', 'refunded', 'failed')`);
    // The HMAC is as selective as the email: one index serves a partner's lookup and a shop's.
    await q.query(
      `CREATE INDEX "ix_orders_buyer" ON "orders" ("customer_email_index") WHERE customer_email_index IS NOT NULL`,
    );
    await q.query(
      `CREATE INDEX "ix_orders_buyer_retention" ON "orders" ("final_at") WHERE customer_sealed IS NOT NULL AND final_at IS NOT NULL`,
    );
    await q.query(`
      CREATE TABLE "privacy_requests" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "partner_id" uuid NOT NULL,
        "kind" text NOT NULL,
        "source" text NOT NULL,
        "status" text NOT NULL DEFAULT 'pending',
        "requested_by" text NOT NULL,
        "store_connection_id" uuid,
        "orders_found" integer NOT NULL DEFAULT 0,
        "order_ids" uuid array NOT NULL DEFAULT '{}',
        "partners_notified" uuid array NOT NULL DEFAULT '{}',
        "result_sealed" text,
        "result_key_id" text,
        "result_expires_at" TIMESTAMP(3) WITH TIME ZONE,
        "failure_reason" text,
        "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(),
        "completed_at" TIMESTAMP(3) WITH TIME ZONE,
        CONSTRAINT "PK_privacy_requests" PRIMARY KEY ("id"),
        CONSTRAINT "fk_privacy_requests_partner" FOREIGN KEY ("partner_id") REFERENCES "partners"("id") ON DELETE CASCADE,
        CONSTRAINT "ck_privacy_requests_kind" CHECK (kind IN ('export', 'erase')),
        CONSTRAINT "ck_privacy_requests_source" CHECK (source IN ('api', 'shopify')),
        CONSTRAINT "ck_privacy_requests_status" CHECK (status IN ('pending', 'completed', 'failed')))`);
    await q.query(
      `CREATE INDEX "ix_privacy_requests_partner" ON "privacy_requests" ("partner_id", "created_at")`,
    );
    await q.query(
      `CREATE INDEX "ix_privacy_requests_result" ON "privacy_requests" ("result_expires_at") WHERE result_sealed IS NOT NULL`,
    );
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "privacy_requests"`);
    await q.query(`DROP INDEX "ix_orders_buyer_retention"`);
    await q.query(`DROP INDEX "ix_orders_buyer"`);
    // Sealed buyer data is not put back in clear: the column comes back empty.
    await q.query(`
      ALTER TABLE "orders"
        ADD COLUMN "customer" jsonb,
        DROP COLUMN "customer_sealed",
        DROP COLUMN "customer_key_id",
        DROP COLUMN "customer_email_index",
        DROP COLUMN "final_at",
        DROP COLUMN "customer_erased_at"`);
  }
}
