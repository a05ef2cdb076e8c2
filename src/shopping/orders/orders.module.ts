import { Module } from '@nestjs/common';
import { StoresModule } from '../../stores/stores.module';
import { OrderBuyerData } from './order-buyer-data.service';
import { OrderPlacementService } from './order-placement.service';
import { OrdersController } from './orders.controller';
import { OrdersProcessor } from './orders.processor';
import { OrdersService } from './orders.service';
import { OrderStatusService } from './order-status.service';

/**
 * Orders: creation and reads, placement in the store, and the one writer of `orders`
 * (OrderStatusService, also used by the inbound applier for the store's order webhooks),
 * the sealed buyer data of orders (OrderBuyerData, also used by privacy requests): every role.
 */
@Module({
  imports: [StoresModule],
  providers: [OrdersService, OrderPlacementService, OrderStatusService, OrderBuyerData],
  exports: [OrdersService, OrderPlacementService, OrderStatusService, OrderBuyerData],
})
export class OrdersModule {}

/** POST /v1/orders, GET /v1/orders/:id (`api` role). */
@Module({ imports: [OrdersModule], controllers: [OrdersController] })
export class OrdersHttpModule {}

/** The placement job and the sweep of pending orders (`worker` role). */
@Module({ imports: [OrdersModule], providers: [OrdersProcessor] })
export class OrdersWorkerModule {}
