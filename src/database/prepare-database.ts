import { Client } from 'pg';
import { DataSource } from 'typeorm';
import type { AppConfig } from '../../config/env.schema';
import { setMigrationKeys } from '../../migrations/migration-keys';
import { buildDataSourceOptions } from './data-source-options';

/** Any fixed number; all processes of one database serialize migrations on it. */
const MIGRATION_LOCK_KEY = 7_310_245_511;

function databaseName(url: string): string {
  return decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
}

/** Creates the database named in DATABASE_URL when it does not exist yet; true if it did. */
export async function ensureDatabaseExists(databaseUrl: string): Promise<boolean> {
  const name = databaseName(databaseUrl);
  const adminUrl = new URL(databaseUrl);
  adminUrl.pathname = '/postgres';
  const client = new Client({ connectionString: adminUrl.toString() });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0) {
      try {
        await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
        return true;
      } catch (err) {
        // Another process may have created it at the same moment.
        const code = (err as { code?: string }).code;
        if (code !== '42P04' && code !== '23505') throw err;
      }
    }
    return false;
  } finally {
    await client.end();
  }
}

/**
 * Runs pending migrations under a Postgres advisory lock, so that several processes
 * (api, worker, ingest) starting together apply each migration once.
 */
export async function runMigrations(databaseUrl: string): Promise<string[]> {
  const ds = new DataSource(buildDataSourceOptions({ databaseUrl }));
  await ds.initialize();
  const runner = ds.createQueryRunner();
  try {
    await runner.connect();
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    const applied = await ds.runMigrations({ transaction: 'each' });
    return applied.map((m) => m.name);
  } finally {
    await runner
      .query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY])
      .catch(() => undefined);
    await runner.release();
    await ds.destroy();
  }
}

/** What start-up did to the database (for its summary). */
export interface DatabasePreparation {
  name: string;
  created: boolean;
  /** The migrations this start applied; null when MIGRATIONS_RUN=false. */
  migrations: string[] | null;
}

export async function prepareDatabase(config: AppConfig): Promise<DatabasePreparation> {
  const created = await ensureDatabaseExists(config.databaseUrl);
  // A migration that seals data kept in clear before uses the keys of this configuration.
  setMigrationKeys(config.encryptionKeys);
  const migrations = config.migrationsRun ? await runMigrations(config.databaseUrl) : null;
  return { name: databaseName(config.databaseUrl), created, migrations };
}
