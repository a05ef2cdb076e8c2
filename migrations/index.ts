import { Initial1795462651781 } from './1795462651781-initial';
import { Streaming1795470000000 } from './1795470000000-streaming';
import { Webhooks1795490000000 } from './1795490000000-webhooks';
import { Pins1795500000000 } from './1795500000000-pins';
import { Commerce1795480000000 } from './1795480000000-commerce';
import { Orders1795510000000 } from './1795510000000-orders';
import { InboundPayloadText1795520000000 } from './1795520000000-inbound-payload-text';
import { OutboxNotify1795530000000 } from './1795530000000-outbox-notify';
import { DestinationPresets1795540000000 } from './1795540000000-destination-presets';
import { RelayWarnings1795550000000 } from './1795550000000-relay-warnings';
import { ShopifyGraphql1795600000000 } from './1795600000000-shopify-graphql';
import { BuyerPrivacy1795610000000 } from './1795610000000-buyer-privacy';
import { Recordings1795620000000 } from './1795620000000-recordings';

/**
 * Every migration, in order. Migrations are hand-checked SQL: relations are kept as
 * foreign keys here, not as TypeORM relation decorators.
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export const MIGRATIONS: Function[] = [
  Initial1795462651781,
  Streaming1795470000000,
  Commerce1795480000000,
  Webhooks1795490000000,
  Pins1795500000000,
  Orders1795510000000,
  InboundPayloadText1795520000000,
  OutboxNotify1795530000000,
  DestinationPresets1795540000000,
  RelayWarnings1795550000000,
  ShopifyGraphql1795600000000,
  BuyerPrivacy1795610000000,
  Recordings1795620000000,
];
