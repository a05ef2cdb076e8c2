import type { ProductDto } from '../catalog/product.dto';

/**
 * The `data` of every event of API.md "Outbound webhooks", in one place: what a partner
 * receives is checked by the compiler at each `outbox.record` call, and event types
 * shared by several writers (order events) are built by one function.
 */

export interface SessionEventData {
  sessionId: string;
  channelId: string;
}

export interface SessionEndedData extends SessionEventData {
  /** publisher_left | stopped | stalled | ingest_lost */
  reason: string;
}

export interface DestinationStateChangedData {
  sessionId: string;
  destinationId: string;
  state: string;
  previousState: string | null;
  attempts: number;
  lastError: string | null;
}

/** destination.warning: the relay's pre-flight warnings changed (all of them, [] when none). */
export interface DestinationWarningData {
  sessionId: string;
  destinationId: string;
  warnings: Array<{ code: string; message: string }>;
}

export interface ProductDeletedData {
  productId: string;
  brandId: string | null;
  externalId: string;
}

export interface InventoryUpdatedData {
  productId: string;
  brandId: string | null;
  variantId: string;
  externalId: string;
  inventoryQuantity: number | null;
  previousQuantity: number | null;
  available: boolean;
}

/** recording.ready: a session's recording is complete and can be replayed. */
export interface RecordingReadyData {
  sessionId: string;
  durationSeconds: number;
}

export interface PinnedData {
  sessionId: string;
  productId: string;
  pinnedAt: string;
}

export interface UnpinnedData {
  sessionId: string;
  productId: string;
}

/** order.placed, order.failed, order.updated: one shape, built by `orderEventData`. */
export interface OrderEventData {
  orderId: string;
  externalId: string;
  brandId: string;
  sessionId: string | null;
  storeOrderId: string | null;
  status: string;
  previousStatus: string | null;
  totalPrice: string;
  currency: string | null;
  failureReason: string | null;
}

export interface StoreConnectionEventData {
  storeConnectionId: string;
  brandId: string;
  provider: string;
  shop: string;
}

/**
 * privacy.buyer_erased: the personal data of a buyer was erased from these orders of the
 * partner (on a request, or Shopify's redact), so the partner's systems can do the same.
 * Never carries the buyer's data.
 */
export interface BuyerErasedData {
  requestId: string;
  orderIds: string[];
}

export interface EventPayloads {
  'session.started': SessionEventData;
  'session.ended': SessionEndedData;
  'destination.state_changed': DestinationStateChangedData;
  'destination.warning': DestinationWarningData;
  'product.created': ProductDto;
  'product.updated': ProductDto;
  'product.deleted': ProductDeletedData;
  'inventory.updated': InventoryUpdatedData;
  'session.product_pinned': PinnedData;
  'session.product_unpinned': UnpinnedData;
  'order.placed': OrderEventData;
  'order.failed': OrderEventData;
  'order.updated': OrderEventData;
  'store_connection.linked': StoreConnectionEventData;
  'store_connection.needs_relink': StoreConnectionEventData;
  'privacy.buyer_erased': BuyerErasedData;
  'recording.ready': RecordingReadyData;
}

/** What an order event is built from: the order row after the change. */
export interface OrderEventSource {
  id: string;
  externalId: string;
  brandId: string;
  sessionId: string | null;
  storeOrderId: string | null;
  status: string;
  totalPrice: string;
  currency: string | null;
  failureReason: string | null;
}

export function orderEventData(o: OrderEventSource, previousStatus: string | null): OrderEventData {
  return {
    orderId: o.id,
    externalId: o.externalId,
    brandId: o.brandId,
    sessionId: o.sessionId,
    storeOrderId: o.storeOrderId,
    status: o.status,
    previousStatus,
    totalPrice: o.totalPrice,
    currency: o.currency,
    failureReason: o.failureReason,
  };
}

export function storeConnectionEventData(c: {
  id: string;
  brandId: string;
  provider: string;
  shop: string;
}): StoreConnectionEventData {
  return { storeConnectionId: c.id, brandId: c.brandId, provider: c.provider, shop: c.shop };
}
