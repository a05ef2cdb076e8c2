import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { APP_CONFIG } from '../common/app-config';
import type { AppConfig } from '../../config/env.schema';
import { buildDataSourceOptions } from './data-source-options';

@Global()
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({
        ...buildDataSourceOptions(config),
        // Keep retrying while Postgres restarts instead of failing the process.
        retryAttempts: Number.MAX_SAFE_INTEGER,
        retryDelay: 1000,
      }),
    }),
  ],
})
export class DatabaseModule {}
