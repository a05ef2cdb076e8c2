import { Module } from '@nestjs/common';
import { BrandsModule } from '../brands/brands.module';
import { OrdersModule } from '../shopping/orders/orders.module';
import { StoresModule } from '../stores/stores.module';
import { CatalogSyncService } from './catalog-sync.service';
import { CatalogWriter } from './catalog-writer.service';
import { CatalogController } from './catalog.controller';
import { CatalogSyncProcessor, InboundEventsProcessor } from './catalog.processors';
import { CatalogService } from './catalog.service';
import { InboundApplier } from './inbound-applier.service';
import { ShopRedaction } from './shop-redaction.service';

/** Catalog reads and writes, import/reconcile/apply services: every role. */
@Module({
  imports: [BrandsModule, StoresModule, OrdersModule],
  providers: [CatalogService, CatalogWriter, CatalogSyncService, InboundApplier, ShopRedaction],
  exports: [CatalogService, CatalogWriter, CatalogSyncService, InboundApplier, ShopRedaction],
})
export class CatalogModule {}

/** Catalog API (`api` role). */
@Module({ imports: [CatalogModule], controllers: [CatalogController] })
export class CatalogHttpModule {}

/** Import, reconciliation and inbound-event processors (`worker` role). */
@Module({
  imports: [CatalogModule],
  providers: [CatalogSyncProcessor, InboundEventsProcessor],
})
export class CatalogWorkerModule {}
