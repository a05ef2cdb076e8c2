import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { BullBoardModule, type BullBoardQueueOptions } from '@bull-board/nestjs';
import { DynamicModule, Module } from '@nestjs/common';
import { QUEUE_LABELS, QueueName } from '../queues/queue-registry';
import { basicAuthMiddleware, type BasicCredentials } from './basic-auth';

export const QUEUE_DASHBOARD_ROUTE = '/admin/queues';

/** One dashboard entry per registered queue, named from QUEUE_LABELS: new queues appear by themselves. */
export function dashboardQueues(): BullBoardQueueOptions[] {
  return Object.values(QueueName).map((name) => ({
    name,
    adapter: BullMQAdapter,
    options: { displayName: QUEUE_LABELS[name], description: `queue "${name}"` },
  }));
}

/**
 * bull-board at /admin/queues, behind HTTP Basic with OPS_USER / OPS_PASSWORD. Loaded only
 * in the api role and only when both are set (otherwise the route does not exist: 404).
 */
@Module({})
export class QueueDashboardModule {
  static forRoot(credentials: BasicCredentials): DynamicModule {
    return {
      module: QueueDashboardModule,
      imports: [
        BullBoardModule.forRoot({
          route: QUEUE_DASHBOARD_ROUTE,
          adapter: ExpressAdapter,
          middleware: basicAuthMiddleware(credentials),
          boardOptions: { uiConfig: { boardTitle: 'Castbridge queues' } },
        }),
        BullBoardModule.forFeature(...dashboardQueues()),
      ],
    };
  }
}
