import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The orders API: extends the minimal `orders` table of the commerce migration with what
 * placing an order in the brand's store needs (line items and prices taken from the
 * catalog at order time, the customer, the session it came from, why it failed).
 */
export class Orders1795510000000 implements MigrationInterface {
  name = 'Orders1795510000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE "orders"
        ADD COLUMN "session_id" uuid,
        ADD COLUMN "line_items" jsonb NOT NULL DEFAULT '[]',
        ADD COLUMN "total_price" numeric(14,2) NOT NULL DEFAULT 0,
        ADD COLUMN "currency" text,
        ADD COLUMN "failure_reason" text,
        ADD COLUMN "customer" jsonb,
        ADD COLUMN "attempts" integer NOT NULL DEFAULT 0`);
    await q.query(
      `ALTER TABLE "orders" ADD CONSTRAINT "fk_orders_session" FOREIGN KEY ("session_id") REFERENCES "sessions"("id") ON DELETE SET NULL`,
    );
    await q.query(
      `CREATE INDEX "ix_orders_session" ON "orders" ("session_id") WHERE session_id IS NOT NULL`,
    );
    // The sweeper re-enqueues pending orders; they are few at any time.
    await q.query(
      `CREATE INDEX "ix_orders_pending" ON "orders" ("created_at") WHERE status = 'pending'`,
    );
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "ix_orders_pending"`);
    await q.query(`DROP INDEX "ix_orders_session"`);
    await q.query(`ALTER TABLE "orders" DROP CONSTRAINT "fk_orders_session"`);
    await q.query(`
      ALTER TABLE "orders"
        DROP COLUMN "session_id",
        DROP COLUMN "line_items",
        DROP COLUMN "total_price",
        DROP COLUMN "currency",
        DROP COLUMN "failure_reason",
        DROP COLUMN "customer",
        DROP COLUMN "attempts"`);
  }
}
