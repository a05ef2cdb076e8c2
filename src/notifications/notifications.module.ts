import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { OutboxEvent } from './outbox-event.entity';
import { MaintenanceProcessor } from './outbox-maintenance.processor';
import { OutboxRelay } from './outbox-relay.service';
import { OutboxService } from './outbox.service';
import { WebhookDeliveriesService } from './webhook-deliveries.service';
import { WebhookDeliveryAttempt } from './webhook-delivery-attempt.entity';
import { WebhookDeliveryProcessor } from './webhook-delivery.processor';
import { WebhookDelivery } from './webhook-delivery.entity';
import { WebhookEndpoint } from './webhook-endpoint.entity';
import { WebhookEndpointsController } from './webhook-endpoints.controller';
import { WebhookEndpointsService } from './webhook-endpoints.service';
import { WebhookHttpClient } from './webhook-http.client';
import { WebhookSender } from './webhook-sender.service';

/** The outbox and webhook services: loaded in every role. */
@Global()
@Module({
  imports: [
    TypeOrmModule.forFeature([
      OutboxEvent,
      WebhookEndpoint,
      WebhookDelivery,
      WebhookDeliveryAttempt,
    ]),
  ],
  providers: [OutboxService, WebhookEndpointsService, WebhookDeliveriesService],
  exports: [OutboxService, WebhookEndpointsService, WebhookDeliveriesService],
})
export class NotificationsModule {}

/** Webhook endpoint routes: `api` role only. */
@Module({
  imports: [NotificationsModule],
  controllers: [WebhookEndpointsController],
})
export class NotificationsHttpModule {}

/** Jobs of this feature and the outbox relay: `worker` role only. */
@Module({
  imports: [NotificationsModule],
  providers: [
    MaintenanceProcessor,
    OutboxRelay,
    WebhookHttpClient.provider(),
    WebhookSender,
    WebhookDeliveryProcessor,
  ],
})
export class NotificationsWorkerModule {}
