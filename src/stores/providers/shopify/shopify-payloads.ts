import type { StoreChange, StoreOrderStatus, StoreProduct, StoreVariant } from '../store-provider';

/**
 * Shopify REST Admin API / webhook JSON → provider-neutral shapes. Pure functions:
 * the webhook payload of products/* is the same product resource the API returns.
 */

type Json = Record<string, unknown>;

function obj(v: unknown): Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {};
}
function idOf(v: unknown): string | null {
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v === 'string' && /^\d{1,20}$/.test(v)) return v;
  return null;
}
function str(v: unknown, fallback = ''): string {
  return typeof v === 'string' ? v : fallback;
}
/** 0001-01-01 … 9999-12-31 (UTC): the times Postgres' timestamptz takes as ISO text. */
const FIRST_TIME = -62_135_596_800_000;
const LAST_TIME = 253_402_300_799_999;

/** A store's ISO time (payload field or header), or null if absent, malformed or out of range. */
export function storeTime(v: unknown): Date | null {
  if (typeof v !== 'string') return null;
  const t = new Date(v).getTime();
  return t >= FIRST_TIME && t <= LAST_TIME ? new Date(t) : null;
}
function int(v: unknown, fallback = 0): number {
  const n = typeof v === 'string' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) ? Math.trunc(n) : fallback;
}
function price(v: unknown): string {
  const n = Number(typeof v === 'string' || typeof v === 'number' ? v : NaN);
  return Number.isFinite(n) && n >= 0 ? n.toFixed(2) : '0.00';
}

export function toStoreVariant(v: unknown, index: number): StoreVariant | null {
  const o = obj(v);
  const externalId = idOf(o.id);
  if (!externalId) return null;
  return {
    externalId,
    inventoryItemId: idOf(o.inventory_item_id),
    sku: typeof o.sku === 'string' && o.sku !== '' ? o.sku : null,
    title: str(o.title),
    price: price(o.price),
    position: int(o.position, index + 1),
    inventoryQuantity: int(o.inventory_quantity),
    // inventory_management "shopify" means Shopify tracks stock; null means untracked.
    inventoryTracked: o.inventory_management !== null && o.inventory_management !== undefined,
    inventoryPolicy: str(o.inventory_policy, 'deny'),
  };
}

/** A product resource → StoreProduct; null when it has no id or no updated_at. */
export function toStoreProduct(p: unknown): StoreProduct | null {
  const o = obj(p);
  const externalId = idOf(o.id);
  const updatedAt = storeTime(o.updated_at);
  if (!externalId || !updatedAt) return null;
  const variants = (Array.isArray(o.variants) ? o.variants : [])
    .map((v, i) => toStoreVariant(v, i))
    .filter((v): v is StoreVariant => v !== null);
  const image = obj(o.image);
  const firstImage = Array.isArray(o.images) ? obj(o.images[0]) : {};
  return {
    externalId,
    title: str(o.title),
    handle: str(o.handle),
    status: str(o.status, 'active'),
    imageUrl: str(image.src) || str(firstImage.src) || null,
    updatedAt,
    variants,
  };
}

/** Order status implied by an order resource (orders/updated and the others). */
export function orderStatusOf(o: Json): StoreOrderStatus {
  if (o.cancelled_at) return 'cancelled';
  const financial = str(o.financial_status);
  if (financial === 'refunded') return 'refunded';
  if (str(o.fulfillment_status) === 'fulfilled') return 'fulfilled';
  if (financial === 'paid' || financial === 'partially_refunded') return 'paid';
  return 'placed';
}

const FIXED_ORDER_STATUS: Record<string, StoreOrderStatus> = {
  'orders/paid': 'paid',
  'orders/fulfilled': 'fulfilled',
  'orders/cancelled': 'cancelled',
};

/** The webhook topics of API.md, registered at link time. */
export const SHOPIFY_TOPICS = [
  'products/create',
  'products/update',
  'products/delete',
  'inventory_levels/update',
  'orders/create',
  'orders/updated',
  'orders/paid',
  'orders/fulfilled',
  'orders/cancelled',
  'refunds/create',
  'app/uninstalled',
  'bulk_operations/finish',
] as const;

/**
 * The mandatory compliance topics: not subscribable through the API, declared in the app
 * configuration (shopify.app.toml `compliance_topics`), delivered to the same address.
 */
export const SHOPIFY_COMPLIANCE_TOPICS = [
  'customers/data_request',
  'customers/redact',
  'shop/redact',
] as const;

export function toStoreChange(
  topic: string,
  payload: unknown,
  triggeredAt: Date | null,
): StoreChange {
  const o = obj(payload);
  const at = storeTime(o.updated_at) ?? triggeredAt ?? new Date();
  switch (topic) {
    case 'products/create':
    case 'products/update': {
      const product = toStoreProduct(o);
      return product
        ? { kind: 'product.upsert', product }
        : { kind: 'ignored', reason: 'malformed product' };
    }
    case 'products/delete': {
      const externalId = idOf(o.id);
      // The delete payload is only {id}: its time is when Shopify triggered it.
      return externalId
        ? { kind: 'product.delete', externalId, at: triggeredAt ?? new Date() }
        : { kind: 'ignored', reason: 'malformed product id' };
    }
    case 'inventory_levels/update': {
      const inventoryItemId = idOf(o.inventory_item_id);
      if (!inventoryItemId || typeof o.available !== 'number') {
        return { kind: 'ignored', reason: 'malformed inventory level' };
      }
      return {
        kind: 'inventory.level',
        inventoryItemId,
        locationId: idOf(o.location_id),
        available: Math.trunc(o.available),
        at,
      };
    }
    case 'bulk_operations/finish': {
      const exportId = str(o.admin_graphql_api_id);
      return exportId.startsWith('gid://shopify/BulkOperation/')
        ? { kind: 'export.finished', exportId }
        : { kind: 'ignored', reason: 'malformed bulk operation' };
    }
    case 'orders/create':
    case 'orders/updated':
    case 'orders/paid':
    case 'orders/fulfilled':
    case 'orders/cancelled': {
      const storeOrderId = idOf(o.id);
      if (!storeOrderId) return { kind: 'ignored', reason: 'malformed order id' };
      const status = FIXED_ORDER_STATUS[topic] ?? orderStatusOf(o);
      return { kind: 'order.status', storeOrderId, status, at };
    }
    case 'refunds/create': {
      const storeOrderId = idOf(o.order_id);
      if (!storeOrderId) return { kind: 'ignored', reason: 'malformed refund' };
      return {
        kind: 'order.status',
        storeOrderId,
        status: 'refunded',
        at: storeTime(o.processed_at) ?? storeTime(o.created_at) ?? at,
      };
    }
    case 'app/uninstalled':
      // The payload is the shop: its domain must be the shop the header names.
      return { kind: 'app.uninstalled', shop: str(o.myshopify_domain) || str(o.domain) || null };
    default:
      return { kind: 'ignored', reason: `unhandled topic ${topic}` };
  }
}

/** The `page_info` of the rel="next" link of a Link header (REST cursor pagination). */
export function nextPageInfo(link: string | undefined): string | null {
  if (!link) return null;
  for (const part of link.split(',')) {
    const m = /<([^>]+)>\s*;\s*rel="?next"?/.exec(part);
    if (m) {
      try {
        return new URL(m[1]).searchParams.get('page_info');
      } catch {
        return null;
      }
    }
  }
  return null;
}
