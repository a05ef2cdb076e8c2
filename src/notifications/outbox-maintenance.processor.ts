import { Processor } from '@nestjs/bullmq';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { abortableQuery } from '../database/abortable-query';
import { QueueName } from '../queues/queue-registry';
import { JobHandlers, TypedProcessor } from '../queues/typed-processor';
import { workerOptions } from '../queues/worker-options';

export const OUTBOX_RETENTION_DAYS = 30;

/**
 * Deletes outbox rows that were dispatched long ago, so the table stays small (their
 * finished delivery log goes with them). A row the relay has not dispatched yet, or one
 * with a delivery still pending, is never deleted.
 */
@Processor(QueueName.Maintenance, workerOptions())
export class MaintenanceProcessor extends TypedProcessor<QueueName.Maintenance> {
  protected readonly queueName = QueueName.Maintenance;

  constructor(@InjectDataSource() private readonly db: DataSource) {
    super();
  }

  protected readonly handlers: JobHandlers<QueueName.Maintenance> = {
    'maintenance.prune-outbox': async ({ olderThanDays }, _job, signal) => {
      // A large prune can take a while: it is cancelled on shutdown and resumed later.
      const res = await abortableQuery<[unknown[], number]>(
        this.db,
        `DELETE FROM outbox_events o
          WHERE o.dispatched_at IS NOT NULL
            AND o.dispatched_at < now() - make_interval(days => $1)
            AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d
                             WHERE d.event_id = o.id AND d.status = 'pending')`,
        [olderThanDays],
        signal,
      );
      return { deleted: res[1] };
    },
  };
}
