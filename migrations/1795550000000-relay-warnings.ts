import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A relay's pre-flight warnings (`[{code, message}]`, API.md's Relay): written by the run
 * that holds the relay, with its `destination.warning` event in the same transaction.
 */
export class RelayWarnings1795550000000 implements MigrationInterface {
  name = 'RelayWarnings1795550000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "relays" ADD COLUMN "warnings" jsonb NOT NULL DEFAULT '[]'`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "relays" DROP COLUMN "warnings"`);
  }
}
