import { ApiKey } from '../partners/api-key.entity';
import { Partner } from '../partners/partner.entity';
import { Brand } from '../brands/brand.entity';
import { Channel } from '../channels/channel.entity';
import { OutboxEvent } from '../notifications/outbox-event.entity';
import { StoreConnection } from '../stores/store-connection.entity';
import { Product } from '../catalog/product.entity';
import { Variant } from '../catalog/variant.entity';

/** Every TypeORM entity, listed explicitly so ts-node, jest and dist agree. */
export const ENTITIES = [
  Partner,
  ApiKey,
  Brand,
  Channel,
  OutboxEvent,
  StoreConnection,
  Product,
  Variant,
];
