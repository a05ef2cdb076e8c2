import { Module } from '@nestjs/common';
import { StoresModule } from '../../stores/stores.module';
import { OrderPlacementService } from './order-placement.service';
import { OrdersController } from './orders.controller';
import { OrdersProcessor } from './orders.processor';
import { OrdersService } from './orders.service';
import { OrderStatusService } from './order-status.service';

/**
 * Orders: creation and reads, placement in the store, and the one writer of `orders`
 * (OrderStatusService, also used by the inbound applier for the store's order webhooks):
 * every role.
 */
@Module({
  imports: [StoresModule],
  providers: [OrdersService, OrderPlacementService, OrderStatusService],
  exports: [OrdersService, OrderPlacementService, OrderStatusService],
})
export class OrdersModule {}

/** POST /v1/orders, GET /v1/orders/:id (`api` role). */
@Module({ imports: [OrdersModule], controllers: [OrdersController] })
export class OrdersHttpModule {}

/** The placement job and the sweep of pending orders (`worker` role). */
@Module({ imports: [OrdersModule], providers: [OrdersProcessor] })
export class OrdersWorkerModule {}
