import { Processor } from '@nestjs/bullmq';
import { QueueName } from '../../queues/queue-registry';
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
