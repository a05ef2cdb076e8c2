import { Module } from '@nestjs/common';
import { KeysModule } from '../keys/keys.module';
import { OrdersModule } from '../shopping/orders/orders.module';
import { StoresModule } from '../stores/stores.module';
import { PrivacyController } from './privacy.controller';
import { ComplianceBridge } from './compliance-bridge.service';
import { PrivacyProcessor } from './privacy.processor';
import { PrivacyRequestsService } from './privacy-requests.service';

/**
 * Buyers' privacy: export/erase requests (PrivacyRequestsService, also the entry points of
 * Shopify's compliance webhooks), every role.
 */
@Module({
  imports: [OrdersModule, StoresModule, KeysModule],
  providers: [PrivacyRequestsService],
  exports: [PrivacyRequestsService],
})
export class PrivacyModule {}

/** POST /v1/privacy/requests, GET /v1/privacy/requests/:id (`api` role). */
@Module({ imports: [PrivacyModule], controllers: [PrivacyController] })
export class PrivacyHttpModule {}

/** The retention and key-rotation jobs (`worker` role). */
@Module({
  imports: [PrivacyModule, OrdersModule, KeysModule, StoresModule],
  providers: [PrivacyProcessor, ComplianceBridge],
})
export class PrivacyWorkerModule {}
