import { InjectQueue, Processor } from '@nestjs/bullmq';
import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Job, Queue } from 'bullmq';
import type { AppConfig } from '../../config/env.schema';
import { APP_CONFIG } from '../common/app-config';
import { JOBS, QueueName } from '../queues/queue-registry';
import { workerOptions } from '../queues/worker-options';
import { JobHandlers, TypedProcessor } from '../queues/typed-processor';
import { CatalogSyncService } from './catalog-sync.service';
import { InboundApplier } from './inbound-applier.service';

/** Also swept on a timer, so an event whose wake-up was lost (Redis down, crash) still applies. */
export const INBOUND_SWEEP_MS = 15_000;
/** Applied inbound events are kept this long (duplicates within it are recognised). */
export const INBOUND_RETENTION_DAYS = 7;

function isFinalAttempt(job: Job): boolean {
  return job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
}

@Processor(QueueName.CatalogSync, workerOptions({ concurrency: 2 }))
export class CatalogSyncProcessor extends TypedProcessor<QueueName.CatalogSync> {
  protected readonly queueName = QueueName.CatalogSync;

  constructor(private readonly sync: CatalogSyncService) {
    super();
  }

  protected readonly handlers: JobHandlers<QueueName.CatalogSync> = {
    'catalog.import': ({ storeConnectionId }, job) =>
      this.sync.import(storeConnectionId, job, isFinalAttempt(job)),
    'catalog.reconcile': ({ storeConnectionId }) => this.sync.reconcile(storeConnectionId),
    'catalog.reconcile-all': () => this.sync.reconcileAll(),
  };
}

@Processor(QueueName.InboundEvents, workerOptions({ concurrency: 1 }))
export class InboundEventsProcessor extends TypedProcessor<QueueName.InboundEvents> {
  protected readonly queueName = QueueName.InboundEvents;

  constructor(private readonly applier: InboundApplier) {
    super();
  }

  protected readonly handlers: JobHandlers<QueueName.InboundEvents> = {
    'catalog.apply-inbound': () => this.applier.drain(),
    'catalog.prune-inbound': ({ olderThanDays }) => this.applier.prune(olderThanDays),
  };
}

/** Schedules reconciliation (RECONCILE_INTERVAL) and the inbound sweep; one id each. */
@Injectable()
export class CatalogScheduler implements OnApplicationBootstrap {
  private readonly logger = new Logger(CatalogScheduler.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectQueue(QueueName.CatalogSync) private readonly syncQueue: Queue,
    @InjectQueue(QueueName.InboundEvents) private readonly inboundQueue: Queue,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.syncQueue.upsertJobScheduler(
      'reconcile-all',
      { every: this.config.reconcileIntervalMs },
      {
        name: 'catalog.reconcile-all',
        data: { trigger: 'schedule' },
        opts: JOBS['catalog.reconcile-all'].options,
      },
    );
    await this.inboundQueue.upsertJobScheduler(
      'apply-inbound-sweep',
      { every: INBOUND_SWEEP_MS },
      {
        name: 'catalog.apply-inbound',
        data: { trigger: 'sweep' },
        opts: JOBS['catalog.apply-inbound'].options,
      },
    );
    await this.inboundQueue.upsertJobScheduler(
      'prune-inbound-daily',
      { pattern: '41 3 * * *' },
      {
        name: 'catalog.prune-inbound',
        data: { olderThanDays: INBOUND_RETENTION_DAYS },
        opts: JOBS['catalog.prune-inbound'].options,
      },
    );
  }
}
