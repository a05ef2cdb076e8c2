import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Recordings and replays (issue #19): the channel's `recording` switch, every pin and
 * unpin kept with its times (session_pins holds only what is pinned now), recordings and
 * the segments each one has in storage. A recording outlives its session's row (no foreign
 * key: deleting a channel deletes its sessions), so its media is still deleted by DELETE
 * or RECORDING_RETENTION.
 */
export class Recordings1795620000000 implements MigrationInterface {
  name = 'Recordings1795620000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "channels" ADD "recording" boolean NOT NULL DEFAULT false`);
    await q.query(`CREATE TABLE "pin_history" (
      "id" bigserial PRIMARY KEY,
      "session_id" uuid NOT NULL REFERENCES "sessions"("id") ON DELETE CASCADE,
      "product_id" uuid NOT NULL REFERENCES "products"("id") ON DELETE CASCADE,
      "partner_id" uuid NOT NULL REFERENCES "partners"("id") ON DELETE CASCADE,
      "pinned_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL,
      "unpinned_at" TIMESTAMP(3) WITH TIME ZONE)`);
    await q.query(
      `CREATE INDEX "pin_history_session" ON "pin_history" ("session_id", "pinned_at")`,
    );
    await q.query(`INSERT INTO "pin_history" (session_id, product_id, partner_id, pinned_at)
      SELECT session_id, product_id, partner_id, pinned_at FROM "session_pins"`);
    await q.query(`CREATE TABLE "recordings" (
      "session_id" uuid PRIMARY KEY,
      "partner_id" uuid NOT NULL REFERENCES "partners"("id") ON DELETE CASCADE,
      "channel_id" uuid NOT NULL,
      "state" text NOT NULL DEFAULT 'recording'
        CHECK ("state" IN ('recording', 'ready', 'failed', 'deleted')),
      "duration_seconds" double precision NOT NULL DEFAULT 0,
      "size_bytes" bigint NOT NULL DEFAULT 0,
      "worker_id" text,
      "error" text,
      "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(),
      "ready_at" TIMESTAMP(3) WITH TIME ZONE,
      "deleted_at" TIMESTAMP(3) WITH TIME ZONE)`);
    await q.query(
      `CREATE INDEX "recordings_state_created" ON "recordings" ("state", "created_at")`,
    );
    await q.query(`CREATE TABLE "recording_segments" (
      "session_id" uuid NOT NULL REFERENCES "recordings"("session_id") ON DELETE CASCADE,
      "seq" integer NOT NULL,
      "uri" text NOT NULL,
      "duration_seconds" double precision NOT NULL,
      "started_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL,
      "bytes" integer NOT NULL,
      "discontinuity" boolean NOT NULL DEFAULT false,
      PRIMARY KEY ("session_id", "seq"))`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "recording_segments"`);
    await q.query(`DROP TABLE "recordings"`);
    await q.query(`DROP TABLE "pin_history"`);
    await q.query(`ALTER TABLE "channels" DROP COLUMN "recording"`);
  }
}
