import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A destination's platform preset (`custom`: no constraints, what every destination
 * before it was). The list is the API's (`PRESET_IDS` in destination-presets.ts); the
 * check keeps a value the code does not know out of the table. `profile` needs no change:
 * jsonb already holds the string "auto" beside null and the profile objects.
 */
export class DestinationPresets1795540000000 implements MigrationInterface {
  name = 'DestinationPresets1795540000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE "destinations" ADD COLUMN "preset" text NOT NULL DEFAULT 'custom'
         CONSTRAINT "destinations_preset" CHECK ("preset" IN
           ('custom', 'youtube', 'facebook', 'instagram', 'tiktok', 'twitch', 'linkedin'))`,
    );
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "destinations" DROP COLUMN "preset"`);
  }
}
