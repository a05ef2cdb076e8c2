import type { EventPayloads } from './event-payloads';

/** Event types of API.md "Outbound webhooks"; the only names the outbox accepts. */
export const EVENT_TYPES = [
  'session.started',
  'session.ended',
  'destination.state_changed',
  'destination.warning',
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
  'privacy.buyer_erased',
  'recording.ready',
] as const satisfies ReadonlyArray<keyof EventPayloads>;
export type EventType = (typeof EVENT_TYPES)[number];

/** Every event with a payload type is listed above (and the reverse, by `satisfies`). */
type Unlisted = Exclude<keyof EventPayloads, EventType>;
export const EVERY_PAYLOAD_LISTED: [Unlisted] extends [never] ? true : Unlisted = true;
