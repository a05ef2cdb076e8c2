import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A committed outbox row wakes the outbox relays at once (NOTIFY is delivered at commit;
 * several rows of one transaction make one notification): they no longer poll Postgres
 * four times a second while nothing happens.
 */
export class OutboxNotify1795530000000 implements MigrationInterface {
  name = 'OutboxNotify1795530000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION castbridge_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('castbridge_outbox', '');
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER outbox_events_notify AFTER INSERT ON "outbox_events"
        FOR EACH STATEMENT EXECUTE FUNCTION castbridge_outbox_notify()`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER IF EXISTS outbox_events_notify ON "outbox_events"`);
    await q.query(`DROP FUNCTION IF EXISTS castbridge_outbox_notify()`);
  }
}
