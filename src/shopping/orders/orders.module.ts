import { Module } from '@nestjs/common';
import { StoresModule } from '../../stores/stores.module';
import { OrderPlacementService } from './order-placement.service';
import { OrdersController } from './orders.controller';
import { OrdersProcessor, OrdersScheduler } from './orders.processor';
import { OrdersService } from './orders.service';

/** Orders: creation and reads, placement in the store (every role). */
@Module({
  imports: [StoresModule],
  providers: [OrdersService, OrderPlacementService],
  exports: [OrdersService, OrderPlacementService],
})
export class OrdersModule {}

/** POST /v1/orders, GET /v1/orders/:id (`api` role). */
@Module({ imports: [OrdersModule], controllers: [OrdersController] })
export class OrdersHttpModule {}

/** The placement job and the sweep of pending orders (`worker` role). */
@Module({ imports: [OrdersModule], providers: [OrdersProcessor, OrdersScheduler] })
export class OrdersWorkerModule {}
