import { Processor } from '@nestjs/bullmq';
import { Job } from 'bullmq';
import { QueueName } from '../queues/queue-registry';
import { workerOptions } from '../queues/worker-options';
import { JobHandlers, TypedProcessor } from '../queues/typed-processor';
import { CatalogSyncService } from './catalog-sync.service';
import { InboundApplier } from './inbound-applier.service';
import { ShopRedaction } from './shop-redaction.service';

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

  constructor(
    private readonly applier: InboundApplier,
    private readonly shopRedaction: ShopRedaction,
  ) {
    super();
  }

  protected readonly handlers: JobHandlers<QueueName.InboundEvents> = {
    // The same wake-up (and its 15 s sweep) applies store events and acts on shop/redact.
    'catalog.apply-inbound': async () => {
      const r = await this.applier.drain();
      return { ...r, shopRedactions: await this.shopRedaction.runPending() };
    },
    'catalog.prune-inbound': ({ olderThanDays }) => this.applier.prune(olderThanDays),
  };
}
