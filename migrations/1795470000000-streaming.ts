import { MigrationInterface, QueryRunner } from 'typeorm';

export class Streaming1795470000000 implements MigrationInterface {
  name = 'Streaming1795470000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "destinations" (
      "id" uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
      "partner_id" uuid NOT NULL REFERENCES "partners"("id") ON DELETE CASCADE,
      "channel_id" uuid NOT NULL REFERENCES "channels"("id") ON DELETE CASCADE,
      "name" text NOT NULL,
      "kind" text NOT NULL CHECK ("kind" IN ('social_platform', 'partner_shop', 'brand_site')),
      "url" text,
      "stream_key_key_id" text,
      "stream_key_sealed" text,
      "stream_key_hint" text,
      "enabled" boolean NOT NULL DEFAULT true,
      "profile" jsonb,
      "config_version" integer NOT NULL DEFAULT 1,
      "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(),
      "updated_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now())`);
    await q.query(
      `CREATE INDEX "destinations_channel" ON "destinations" ("channel_id", "created_at")`,
    );

    await q.query(`CREATE TABLE "sessions" (
      "id" uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
      "partner_id" uuid NOT NULL REFERENCES "partners"("id") ON DELETE CASCADE,
      "channel_id" uuid NOT NULL REFERENCES "channels"("id") ON DELETE CASCADE,
      "status" text NOT NULL CHECK ("status" IN ('live', 'ended')),
      "started_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(),
      "ended_at" TIMESTAMP(3) WITH TIME ZONE,
      "end_reason" text,
      "ingest" jsonb NOT NULL DEFAULT '{}',
      "ingest_node" text NOT NULL,
      "stream_name" text NOT NULL,
      "last_media_at" TIMESTAMP(3) WITH TIME ZONE)`);
    await q.query(
      `CREATE INDEX "sessions_channel" ON "sessions" ("channel_id", "started_at", "id")`,
    );
    // One live session per channel, enforced by Postgres across every ingest node.
    await q.query(
      `CREATE UNIQUE INDEX "sessions_one_live_per_channel" ON "sessions" ("channel_id") WHERE "status" = 'live'`,
    );
    await q.query(`ALTER TABLE "channels" ADD CONSTRAINT "fk_channels_current_session"
      FOREIGN KEY ("current_session_id") REFERENCES "sessions"("id") ON DELETE SET NULL`);

    await q.query(`CREATE TABLE "relays" (
      "id" uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
      "partner_id" uuid NOT NULL REFERENCES "partners"("id") ON DELETE CASCADE,
      "session_id" uuid NOT NULL REFERENCES "sessions"("id") ON DELETE CASCADE,
      "destination_id" uuid NOT NULL,
      "state" text NOT NULL CHECK ("state" IN ('starting', 'live', 'retrying', 'errored', 'stopped')),
      "attempts" integer NOT NULL DEFAULT 0,
      "last_error" text,
      "next_retry_at" TIMESTAMP(3) WITH TIME ZONE,
      "since" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(),
      "failing_since" TIMESTAMP(3) WITH TIME ZONE,
      "bitrate_kbps" integer,
      "bytes_sent" bigint NOT NULL DEFAULT 0,
      "generation" integer NOT NULL DEFAULT 0,
      "worker_id" text,
      "updated_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now())`);
    await q.query(
      `CREATE UNIQUE INDEX "relays_session_destination" ON "relays" ("session_id", "destination_id")`,
    );
    await q.query(`CREATE INDEX "relays_destination" ON "relays" ("destination_id")`);
    await q.query(
      `CREATE INDEX "relays_active" ON "relays" ("state") WHERE "state" IN ('starting', 'live', 'retrying')`,
    );
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "relays"`);
    await q.query(`ALTER TABLE "channels" DROP CONSTRAINT "fk_channels_current_session"`);
    await q.query(`DROP TABLE "sessions"`);
    await q.query(`DROP TABLE "destinations"`);
  }
}
