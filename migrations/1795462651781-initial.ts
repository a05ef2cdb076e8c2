import { MigrationInterface, QueryRunner } from 'typeorm';

export class Initial1795462651781 implements MigrationInterface {
  name = 'Initial1795462651781';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "api_keys" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "partner_id" uuid NOT NULL, "lookup" text NOT NULL, "key_hash" bytea NOT NULL, "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "last_used_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_5c8a79801b44bd27b79228e1dad" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_cb1d0a418c5606b7405d98e6cb" ON "api_keys" ("partner_id") `,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "IDX_09463fdda47fdc3dedc26ffffa" ON "api_keys" ("lookup") `,
    );
    await queryRunner.query(
      `CREATE TABLE "partners" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "name" text NOT NULL, "allowed_return_origins" text array NOT NULL DEFAULT '{}', "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_998645b20820e4ab99aeae03b41" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE TABLE "brands" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "partner_id" uuid NOT NULL, "name" text NOT NULL, "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_b0c437120b624da1034a81fc561" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_05dbb8d7043f23e04db442125b" ON "brands" ("partner_id") `,
    );
    await queryRunner.query(
      `CREATE TABLE "channels" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "partner_id" uuid NOT NULL, "name" text NOT NULL, "brand_id" uuid, "stream_key_hash" bytea NOT NULL, "current_session_id" uuid, "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_bc603823f3f741359c2339389f9" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "IDX_a9432d71d705ebbf15e1298bcb" ON "channels" ("stream_key_hash") `,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_f38792ff6a4aed8cf30f447bb1" ON "channels" ("partner_id", "created_at", "id") `,
    );
    await queryRunner.query(
      `CREATE TABLE "outbox_events" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "partner_id" uuid NOT NULL, "type" text NOT NULL, "data" jsonb NOT NULL, "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "dispatched_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_6689a16c00d09b8089f6237f1d2" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_2b62c58218bf3cc241d827bddc" ON "outbox_events" ("partner_id") `,
    );
    await queryRunner.query(
      `CREATE INDEX "outbox_events_undispatched" ON "outbox_events" ("created_at") WHERE dispatched_at IS NULL`,
    );
    await queryRunner.query(
      `ALTER TABLE "api_keys" ADD CONSTRAINT "fk_api_keys_partner" FOREIGN KEY ("partner_id") REFERENCES "partners"("id") ON DELETE CASCADE`,
    );
    await queryRunner.query(
      `ALTER TABLE "brands" ADD CONSTRAINT "fk_brands_partner" FOREIGN KEY ("partner_id") REFERENCES "partners"("id") ON DELETE CASCADE`,
    );
    await queryRunner.query(
      `ALTER TABLE "channels" ADD CONSTRAINT "fk_channels_partner" FOREIGN KEY ("partner_id") REFERENCES "partners"("id") ON DELETE CASCADE`,
    );
    await queryRunner.query(
      `ALTER TABLE "channels" ADD CONSTRAINT "fk_channels_brand" FOREIGN KEY ("brand_id") REFERENCES "brands"("id") ON DELETE SET NULL`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "channels" DROP CONSTRAINT "fk_channels_brand"`);
    await queryRunner.query(`ALTER TABLE "channels" DROP CONSTRAINT "fk_channels_partner"`);
    await queryRunner.query(`ALTER TABLE "brands" DROP CONSTRAINT "fk_brands_partner"`);
    await queryRunner.query(`ALTER TABLE "api_keys" DROP CONSTRAINT "fk_api_keys_partner"`);
    await queryRunner.query(`DROP INDEX "public"."outbox_events_undispatched"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_2b62c58218bf3cc241d827bddc"`);
    await queryRunner.query(`DROP TABLE "outbox_events"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_f38792ff6a4aed8cf30f447bb1"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_a9432d71d705ebbf15e1298bcb"`);
    await queryRunner.query(`DROP TABLE "channels"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_05dbb8d7043f23e04db442125b"`);
    await queryRunner.query(`DROP TABLE "brands"`);
    await queryRunner.query(`DROP TABLE "partners"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_09463fdda47fdc3dedc26ffffa"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_cb1d0a418c5606b7405d98e6cb"`);
    await queryRunner.query(`DROP TABLE "api_keys"`);
  }
}
