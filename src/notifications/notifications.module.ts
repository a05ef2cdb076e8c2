import { Global, Module } from '@nestjs/common';
import { MaintenanceProcessor, MaintenanceScheduler } from './outbox-maintenance.processor';
import { OutboxService } from './outbox.service';

@Global()
@Module({ providers: [OutboxService], exports: [OutboxService] })
export class NotificationsModule {}

/** Jobs of this feature: `worker` role only. */
@Module({ providers: [MaintenanceProcessor, MaintenanceScheduler] })
export class NotificationsWorkerModule {}
