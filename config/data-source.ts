import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadConfigFromProcess } from './env.schema';
import { buildDataSourceOptions } from '../src/database/data-source-options';

/** Used by the TypeORM CLI (`npm run migration:generate`, `npm run migration:run`). */
export default new DataSource(buildDataSourceOptions(loadConfigFromProcess()));
