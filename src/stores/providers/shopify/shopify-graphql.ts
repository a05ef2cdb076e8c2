import type {
  StoreExportStatus,
  StoreInventoryLevel,
  StoreLocation,
  StoreProduct,
  StoreVariant,
} from '../store-provider';
import { storeTime } from './shopify-payloads';

/**
 * The GraphQL Admin API documents Castbridge sends, and pure parsers of what they answer
 * (GraphQL objects and bulk-operation JSONL lines → provider-neutral shapes). Every
 * document here is validated against the local store's schema (Shopify's type and field
 * names) by shopify-graphql.spec.ts.
 */

type Json = Record<string, unknown>;
function obj(v: unknown): Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {};
}
function str(v: unknown, fallback = ''): string {
  return typeof v === 'string' ? v : fallback;
}

/** The numeric id at the end of a global id (`gid://shopify/Product/123` → "123"). */
export function legacyId(gid: unknown): string | null {
  if (typeof gid === 'number' && Number.isInteger(gid) && gid > 0) return String(gid);
  if (typeof gid !== 'string') return null;
  if (/^\d{1,20}$/.test(gid)) return gid;
  const m = /^gid:\/\/shopify\/[A-Za-z]+\/(\d{1,20})(?:\?.*)?$/.exec(gid);
  return m ? m[1] : null;
}

export function gid(type: string, id: string): string {
  return `gid://shopify/${type}/${id}`;
}

/** Page sizes that keep a query's requested cost well under Shopify's 1,000-point cap. */
export const PRODUCTS_PAGE = 20;
export const VARIANTS_PER_PRODUCT_PAGE = 20;
export const VARIANTS_PAGE = 250;
export const IDS_PAGE = 250;
export const INVENTORY_ITEMS_PAGE = 25;
export const LEVELS_PER_ITEM = 10;

const VARIANT_FIELDS = `id legacyResourceId title sku price position inventoryPolicy inventoryQuantity
      inventoryItem { id legacyResourceId tracked }`;
const PRODUCT_FIELDS = `id legacyResourceId title handle status updatedAt
      featuredMedia { preview { image { url } } }`;

export const SHOP_QUERY = `query CastbridgeShop { shop { currencyCode } }`;

export const PRODUCTS_COUNT_QUERY = `query CastbridgeProductsCount($query: String) {
  productsCount(query: $query, limit: null) { count precision }
}`;

export const PRODUCTS_QUERY = `query CastbridgeProducts($first: Int!, $after: String, $query: String) {
  products(first: $first, after: $after, query: $query, sortKey: ID) {
    pageInfo { hasNextPage endCursor }
    nodes {
      ${PRODUCT_FIELDS}
      variants(first: ${VARIANTS_PER_PRODUCT_PAGE}) {
        pageInfo { hasNextPage endCursor }
        nodes { ${VARIANT_FIELDS} }
      }
    }
  }
}`;

export const PRODUCT_VARIANTS_QUERY = `query CastbridgeProductVariants($id: ID!, $after: String) {
  product(id: $id) {
    variants(first: ${VARIANTS_PAGE}, after: $after) {
      pageInfo { hasNextPage endCursor }
      nodes { ${VARIANT_FIELDS} }
    }
  }
}`;

export const PRODUCT_IDS_QUERY = `query CastbridgeProductIds($after: String) {
  products(first: ${IDS_PAGE}, after: $after, sortKey: ID) {
    pageInfo { hasNextPage endCursor }
    nodes { legacyResourceId }
  }
}`;

export const LOCATIONS_QUERY = `query CastbridgeLocations($after: String) {
  locations(first: 250, after: $after, includeInactive: true) {
    pageInfo { hasNextPage endCursor }
    nodes { id legacyResourceId name isActive fulfillsOnlineOrders }
  }
}`;

export const INVENTORY_LEVELS_QUERY = `query CastbridgeInventory($after: String, $query: String) {
  inventoryItems(first: ${INVENTORY_ITEMS_PAGE}, after: $after, query: $query) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id
      inventoryLevels(first: ${LEVELS_PER_ITEM}) {
        nodes { id updatedAt location { id } quantities(names: ["available"]) { name quantity } }
      }
    }
  }
}`;

/**
 * The bulk queries (no page sizes: Shopify pages on its side). At most two levels of
 * nested connections, so stock per location is its own export over inventory items.
 */
export function bulkProductsQuery(search: string | null): string {
  const args = search ? `(query: ${JSON.stringify(search)})` : '';
  return `{
  products${args} {
    edges { node {
      ${PRODUCT_FIELDS}
      variants { edges { node { ${VARIANT_FIELDS} } } }
    } }
  }
}`;
}

export function bulkInventoryQuery(search: string | null): string {
  const args = search ? `(query: ${JSON.stringify(search)})` : '';
  return `{
  inventoryItems${args} {
    edges { node {
      id
      inventoryLevels { edges { node {
        id updatedAt location { id } quantities(names: ["available"]) { name quantity }
      } } }
    } }
  }
}`;
}

export const BULK_RUN_MUTATION = `mutation CastbridgeBulkRun($query: String!) {
  bulkOperationRunQuery(query: $query, groupObjects: false) {
    bulkOperation { id status }
    userErrors { field message code }
  }
}`;

export const BULK_STATUS_QUERY = `query CastbridgeBulkStatus($id: ID!) {
  node(id: $id) {
    ... on BulkOperation { id status errorCode url objectCount rootObjectCount }
  }
}`;

export const WEBHOOK_CREATE_MUTATION = `mutation CastbridgeWebhookCreate($topic: WebhookSubscriptionTopic!, $webhookSubscription: WebhookSubscriptionInput!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $webhookSubscription) {
    webhookSubscription { id topic uri }
    userErrors { field message }
  }
}`;

export const WEBHOOKS_QUERY = `query CastbridgeWebhooks($after: String) {
  webhookSubscriptions(first: 100, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes { id topic uri }
  }
}`;

export const WEBHOOK_DELETE_MUTATION = `mutation CastbridgeWebhookDelete($id: ID!) {
  webhookSubscriptionDelete(id: $id) {
    deletedWebhookSubscriptionId
    userErrors { field message }
  }
}`;

/** `products/update` → `PRODUCTS_UPDATE` (Shopify's WebhookSubscriptionTopic). */
export function topicEnum(topic: string): string {
  return topic.replace(/[/]/g, '_').toUpperCase();
}

/** Shopify's search syntax for "changed after": `updated_at:>'2026-12-01T10:00:00Z'`. */
export function updatedSinceSearch(since: Date): string {
  return `updated_at:>'${since.toISOString()}'`;
}

function price(v: unknown): string {
  const n = Number(typeof v === 'string' || typeof v === 'number' ? v : NaN);
  return Number.isFinite(n) && n >= 0 ? n.toFixed(2) : '0.00';
}
function int(v: unknown, fallback = 0): number {
  const n = typeof v === 'string' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) ? Math.trunc(n) : fallback;
}

export function variantFromGraphql(v: unknown, index: number): StoreVariant | null {
  const o = obj(v);
  const externalId = legacyId(o.legacyResourceId) ?? legacyId(o.id);
  if (!externalId) return null;
  const item = obj(o.inventoryItem);
  return {
    externalId,
    inventoryItemId: legacyId(item.legacyResourceId) ?? legacyId(item.id),
    sku: typeof o.sku === 'string' && o.sku !== '' ? o.sku : null,
    title: str(o.title),
    price: price(o.price),
    position: int(o.position, index + 1),
    inventoryQuantity: int(o.inventoryQuantity),
    inventoryTracked: item.tracked !== false,
    inventoryPolicy: str(o.inventoryPolicy, 'DENY').toLowerCase(),
  };
}

/** A Product object (page or bulk line) → StoreProduct, variants as given. */
export function productFromGraphql(p: unknown, variants: StoreVariant[]): StoreProduct | null {
  const o = obj(p);
  const externalId = legacyId(o.legacyResourceId) ?? legacyId(o.id);
  const updatedAt = storeTime(o.updatedAt);
  if (!externalId || !updatedAt) return null;
  const image = obj(obj(obj(o.featuredMedia).preview).image);
  return {
    externalId,
    title: str(o.title),
    handle: str(o.handle),
    status: str(o.status, 'ACTIVE').toLowerCase(),
    imageUrl: str(image.url) || null,
    updatedAt,
    variants,
  };
}

export function locationFromGraphql(l: unknown): StoreLocation | null {
  const o = obj(l);
  const externalId = legacyId(o.legacyResourceId) ?? legacyId(o.id);
  if (!externalId) return null;
  return {
    externalId,
    name: str(o.name),
    active: o.isActive !== false,
    sellsOnline: o.fulfillsOnlineOrders === true,
  };
}

/** An InventoryLevel object → the level of `inventoryItemGid`; null without an available quantity. */
export function levelFromGraphql(
  level: unknown,
  inventoryItemGid: unknown,
): StoreInventoryLevel | null {
  const o = obj(level);
  const inventoryItemId = legacyId(inventoryItemGid);
  const locationId = legacyId(obj(o.location).id);
  const at = storeTime(o.updatedAt);
  const q = (Array.isArray(o.quantities) ? o.quantities : [])
    .map(obj)
    .find((x) => x.name === 'available');
  if (!inventoryItemId || !locationId || !at || !q || typeof q.quantity !== 'number') return null;
  return { inventoryItemId, locationId, available: Math.trunc(q.quantity), at };
}

const EXPORT_STATUS: Record<string, StoreExportStatus['status']> = {
  CREATED: 'running',
  RUNNING: 'running',
  CANCELING: 'running',
  COMPLETED: 'completed',
  FAILED: 'failed',
  CANCELED: 'canceled',
  EXPIRED: 'expired',
};

export function exportStatusFromGraphql(node: unknown): StoreExportStatus | null {
  const o = obj(node);
  const status = EXPORT_STATUS[str(o.status)];
  if (typeof o.id !== 'string' || !status) return null;
  return {
    id: o.id,
    status,
    url: typeof o.url === 'string' && o.url ? o.url : null,
    errorCode: typeof o.errorCode === 'string' ? o.errorCode : null,
    rootObjectCount: int(o.rootObjectCount),
  };
}

/**
 * Reassembles products from a bulk JSONL stream: a product line, then its variants' lines
 * (each with `__parentId`), as Shopify writes them. A product is complete when the next
 * product line (or the end) comes, so one product is held at a time.
 */
export async function* productsFromJsonl(
  lines: AsyncIterable<string>,
): AsyncIterable<StoreProduct> {
  let current: { line: Json; variants: StoreVariant[] } | null = null;
  const finish = (): StoreProduct | null =>
    current ? productFromGraphql(current.line, current.variants) : null;
  for await (const text of lines) {
    const line = JSON.parse(text) as Json;
    const id = str(line.id);
    if (id.startsWith('gid://shopify/Product/')) {
      const done = finish();
      if (done) yield done;
      current = { line, variants: [] };
    } else if (id.startsWith('gid://shopify/ProductVariant/') && current) {
      if (line.__parentId !== current.line.id) continue; // not this product's: never seen in practice
      const v = variantFromGraphql(line, current.variants.length);
      if (v) current.variants.push(v);
    }
  }
  const done = finish();
  if (done) yield done;
}

/** Inventory levels from a bulk JSONL stream (each level line names its item by `__parentId`). */
export async function* levelsFromJsonl(
  lines: AsyncIterable<string>,
): AsyncIterable<StoreInventoryLevel> {
  for await (const text of lines) {
    const line = JSON.parse(text) as Json;
    if (!str(line.id).startsWith('gid://shopify/InventoryLevel/')) continue;
    const level = levelFromGraphql(line, line.__parentId);
    if (level) yield level;
  }
}

/** A short summary of a mutation's userErrors ("lineItems.0: Variant is out of stock"). */
export function userErrorsSummary(errors: unknown): string {
  return (Array.isArray(errors) ? errors : [])
    .map(obj)
    .map((e) => {
      const field = Array.isArray(e.field) ? e.field.join('.') : '';
      return `${field ? `${field}: ` : ''}${str(e.message)}`;
    })
    .join('; ')
    .replace(/\s+/g, ' ')
    .slice(0, 300);
}
