import { InjectQueue, Processor } from '@nestjs/bullmq';
import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { Queue } from 'bullmq';
import { JOBS, QueueName } from '../../queues/queue-registry';
import { JobHandlers, TypedProcessor } from '../../queues/typed-processor';
import { workerOptions } from '../../queues/worker-options';
import { OrderPlacementService } from './order-placement.service';
import { orderBackoff } from './order-retry';

/** How often the worker looks for pending orders whose job was lost. */
export const ORDER_SWEEP_EVERY_MS = 30_000;

@Processor(
  QueueName.Orders,
  workerOptions({ concurrency: 4, settings: { backoffStrategy: orderBackoff } }),
)
export class OrdersProcessor extends TypedProcessor<QueueName.Orders> {
  protected readonly queueName = QueueName.Orders;

  constructor(private readonly placement: OrderPlacementService) {
    super();
  }

  protected readonly handlers: JobHandlers<QueueName.Orders> = {
    'orders.place': ({ orderId }, job) => this.placement.place(orderId, job),
    'orders.sweep': () => this.placement.sweep(),
  };
}

/** Schedules the sweep of pending orders (one scheduler id, however many workers). */
@Injectable()
export class OrdersScheduler implements OnApplicationBootstrap {
  constructor(@InjectQueue(QueueName.Orders) private readonly queue: Queue) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.queue.upsertJobScheduler(
      'orders-sweep',
      { every: ORDER_SWEEP_EVERY_MS },
      { name: 'orders.sweep', data: { trigger: 'schedule' }, opts: JOBS['orders.sweep'].options },
    );
  }
}
