import { DynamicModule, Global, Module, Type } from '@nestjs/common';
import type { AppConfig } from '../../config/env.schema';
import { JOB_METRICS } from '../queues/job-metrics';
import { HealthController } from './health.controller';
import { HealthService } from './health.service';
import { MetricsController } from './metrics.controller';
import { MetricsService } from './metrics.service';
import { QueueDashboardModule } from './queue-dashboard.module';
import { RedisSettingsCheck } from './redis-settings.check';

/**
 * Probes and metrics (every role), the queue dashboard (api role, with OPS_* set), the
 * Redis production-settings check. MetricsService is global: features report to it.
 */
@Global()
@Module({})
export class OpsModule {
  static forRoot(config: AppConfig): DynamicModule {
    const imports: Array<Type | DynamicModule> = [];
    if (config.roles.has('api') && config.ops) {
      imports.push(QueueDashboardModule.forRoot(config.ops));
    }
    return {
      module: OpsModule,
      imports,
      controllers: [HealthController, MetricsController],
      providers: [
        HealthService,
        MetricsService,
        { provide: JOB_METRICS, useExisting: MetricsService },
        RedisSettingsCheck,
      ],
      exports: [HealthService, MetricsService, JOB_METRICS],
    };
  }
}
