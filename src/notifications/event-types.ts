/** Event types of API.md "Outbound webhooks"; the only names the outbox accepts. */
export const EVENT_TYPES = [
  'session.started',
  'session.ended',
  'destination.state_changed',
  'product.created',
  'product.updated',
  'product.deleted',
  'inventory.updated',
  'session.product_pinned',
  'session.product_unpinned',
  'order.placed',
  'order.failed',
  'order.updated',
  'store_connection.linked',
  'store_connection.needs_relink',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];
