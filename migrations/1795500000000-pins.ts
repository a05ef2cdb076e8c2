import { MigrationInterface, QueryRunner } from 'typeorm';

export class Pins1795500000000 implements MigrationInterface {
  name = 'Pins1795500000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "session_pins" (
      "session_id" uuid NOT NULL REFERENCES "sessions"("id") ON DELETE CASCADE,
      "product_id" uuid NOT NULL REFERENCES "products"("id") ON DELETE CASCADE,
      "partner_id" uuid NOT NULL REFERENCES "partners"("id") ON DELETE CASCADE,
      "pinned_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(),
      PRIMARY KEY ("session_id", "product_id"))`);
    await q.query(
      `CREATE INDEX "session_pins_order" ON "session_pins" ("session_id", "pinned_at")`,
    );
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "session_pins"`);
  }
}
