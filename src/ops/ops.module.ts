import { Module } from '@nestjs/common';
import { HealthController } from './health.controller';
import { HealthService } from './health.service';

/** Probes (and later metrics, dashboards): served by every role. */
@Module({ controllers: [HealthController], providers: [HealthService], exports: [HealthService] })
export class OpsModule {}
