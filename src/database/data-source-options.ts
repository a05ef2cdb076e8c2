import { DataSourceOptions } from 'typeorm';
import type { AppConfig } from '../../config/env.schema';
import { ENTITIES } from './entities';
import { MIGRATIONS } from '../../migrations';

export function buildDataSourceOptions(config: Pick<AppConfig, 'databaseUrl'>): DataSourceOptions {
  return {
    type: 'postgres',
    url: config.databaseUrl,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'typeorm_migrations',
    // The schema changes only through migrations/.
    synchronize: false,
    migrationsRun: false,
    extra: { max: 20, connectionTimeoutMillis: 5000 },
  };
}
