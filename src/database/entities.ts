import { ApiKey } from '../partners/api-key.entity';
import { Partner } from '../partners/partner.entity';
import { Brand } from '../brands/brand.entity';
import { Channel } from '../channels/channel.entity';
import { OutboxEvent } from '../notifications/outbox-event.entity';
import { Destination } from '../destinations/destination.entity';
import { Session } from '../ingest/session.entity';
import { Relay } from '../relay/relay.entity';
import { WebhookEndpoint } from '../notifications/webhook-endpoint.entity';
import { WebhookDelivery } from '../notifications/webhook-delivery.entity';
import { WebhookDeliveryAttempt } from '../notifications/webhook-delivery-attempt.entity';
import { StoreConnection } from '../stores/store-connection.entity';
import { Product } from '../catalog/product.entity';
import { Variant } from '../catalog/variant.entity';
import { SessionPin } from '../shopping/pin.entity';
import { Order } from '../shopping/orders/order.entity';
import { PrivacyRequest } from '../privacy/privacy-request.entity';

/** Every TypeORM entity, listed explicitly so ts-node, jest and dist agree. */
export const ENTITIES = [
  Partner,
  ApiKey,
  Brand,
  Channel,
  OutboxEvent,
  Destination,
  Session,
  Relay,
  WebhookEndpoint,
  WebhookDelivery,
  WebhookDeliveryAttempt,
  StoreConnection,
  Product,
  Variant,
  SessionPin,
  Order,
  PrivacyRequest,
];
