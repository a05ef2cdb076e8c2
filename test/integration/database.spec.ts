import { Client } from 'pg';
import { ensureDatabaseExists, runMigrations } from '../../src/database/prepare-database';
import { dropDatabase, PG_BASE, uniqueName } from '../support/test-env';

describe('database preparation (real Postgres)', () => {
  const url = `${PG_BASE}/${uniqueName('cbt_db')}`;
  afterAll(() => dropDatabase(url));

  it('creates a missing database, and tolerates several processes doing it at once', async () => {
    await Promise.all([
      ensureDatabaseExists(url),
      ensureDatabaseExists(url),
      ensureDatabaseExists(url),
    ]);
    const c = new Client({ connectionString: url });
    await c.connect();
    await c.end();
  });

  it('applies each migration once when several processes start together', async () => {
    const results = await Promise.all([runMigrations(url), runMigrations(url), runMigrations(url)]);
    expect(results.flat()).toHaveLength(results.find((r) => r.length > 0)!.length);
    const c = new Client({ connectionString: url });
    await c.connect();
    try {
      const tables = await c.query(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
      );
      expect(tables.rows.map((r: { table_name: string }) => r.table_name)).toEqual(
        expect.arrayContaining([
          'api_keys',
          'brands',
          'channels',
          'outbox_events',
          'partners',
          'typeorm_migrations',
        ]),
      );
      // A second start has nothing to do.
      expect(await runMigrations(url)).toEqual([]);
    } finally {
      await c.end();
    }
  });
});
