import { createHmac, randomBytes } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  DocumentNode,
  execute,
  FieldNode,
  getNamedType,
  GraphQLError,
  GraphQLObjectType,
  GraphQLSchema,
  isCompositeType,
  isObjectType,
  Kind,
  OperationDefinitionNode,
  parse,
  SelectionSetNode,
  validate,
  valueFromASTUntyped,
} from 'graphql';
import { shopifyAdminSchema } from './fake-shopify-schema';

/**
 * A local Shopify-like store on 127.0.0.1 (a real HTTP server) speaking what Castbridge
 * uses of Shopify today:
 * - OAuth: the authorize redirect with a hex `hmac` over the sorted query, the code
 *   exchange (`expiring=1` → an access token that really expires, `expires_in`, and a
 *   refresh token), the refresh-token grant (the refresh token rotates: the old one stops
 *   working), tokens PER SHOP (the shop is the Host of the request, as at Shopify: a token
 *   of shop A answers 401 at shop B);
 * - the GraphQL Admin API (`/admin/api/<version>/graphql.json`), a schema subset with
 *   Shopify's names (fake-shopify-schema.ts) built with graphql-js: every query is parsed
 *   and validated, then executed; the calculated query cost and a leaky bucket per shop
 *   (`extensions.cost.throttleStatus`; a query costing more than the bucket holds answers
 *   `THROTTLED` with no data), connections that need `first`/`last` (≤ 250);
 * - bulk operations: `bulkOperationRunQuery` (at most 5 connections, 2 levels deep) runs the
 *   query over everything, writes the JSONL (`__parentId` lines) served over HTTP at the
 *   operation's `url`, and fires `bulk_operations/finish` to the shop's subscriptions;
 * - stock per location (several locations, some not selling online), orderCreate obeying
 *   stock policy, webhook subscriptions, signed webhooks (base64 HMAC of the raw body).
 * REST Admin API paths answer 404: the app must not use them. Point SHOPIFY_API_ORIGIN at it.
 */

export interface FakeVariant {
  id: number;
  product_id: number;
  title: string;
  price: string;
  sku: string;
  position: number;
  inventory_policy: string;
  inventory_management: string | null;
  inventory_item_id: number;
  inventory_quantity: number;
  old_inventory_quantity: number;
  created_at: string;
  updated_at: string;
  option1: string;
  admin_graphql_api_id: string;
}

/** A product as Shopify's webhooks show it (the REST resource shape of products/*). */
export interface FakeProduct {
  id: number;
  title: string;
  body_html: string;
  vendor: string;
  product_type: string;
  handle: string;
  status: string;
  tags: string;
  created_at: string;
  updated_at: string;
  published_at: string;
  admin_graphql_api_id: string;
  variants: FakeVariant[];
  image: { id: number; product_id: number; src: string } | null;
  images: Array<{ id: number; product_id: number; src: string }>;
}

export interface FakeOrderLineItem {
  id: number;
  variant_id: number;
  product_id: number;
  title: string;
  variant_title: string;
  sku: string;
  quantity: number;
  price: string;
}

/** An order as the orders/* webhooks show it (the fields Castbridge and its tests read). */
export interface FakeOrder {
  id: number;
  admin_graphql_api_id: string;
  name: string;
  order_number: number;
  email: string;
  currency: string;
  total_price: string;
  subtotal_price: string;
  financial_status: string;
  fulfillment_status: string | null;
  cancelled_at: string | null;
  tags: string;
  note: string | null;
  note_attributes: Array<{ name: string; value: string }>;
  source_identifier: string | null;
  line_items: FakeOrderLineItem[];
  customer: Record<string, unknown> | null;
  shipping_address: Record<string, unknown> | null;
  created_at: string;
  updated_at: string;
}

export interface FakeLocation {
  id: number;
  name: string;
  isActive: boolean;
  fulfillsOnlineOrders: boolean;
}

export interface FakeShopifyOptions {
  apiKey: string;
  apiSecret: string;
  shop?: string;
  products?: number;
  variantsPerProduct?: number;
  currency?: string;
  /** Locations of the default shop (default: one, selling online). Stock starts at the first. */
  locations?: Array<{ name: string; fulfillsOnlineOrders: boolean; isActive?: boolean }>;
}

export interface RequestRecord {
  method: string;
  path: string;
  query: Record<string, string>;
  status: number;
  /** The shop (Host) the call was for. */
  shop: string;
  /** When it arrived (ms since the epoch). */
  at: number;
  /** GraphQL: the root fields asked for (e.g. ['products'], ['orderCreate']). */
  fields: string[];
  /** GraphQL: the `query` (search) variable, if any. */
  search: string | null;
  /** GraphQL: the throttle answer (THROTTLED), with the bucket as it was. */
  throttled: { requested: number; available: number; restoreRate: number } | null;
}

interface Bucket {
  available: number;
  at: number;
}

interface BulkOp {
  id: string;
  shop: string;
  status: 'CREATED' | 'RUNNING' | 'COMPLETED' | 'FAILED' | 'CANCELED' | 'EXPIRED';
  query: string;
  createdAt: string;
  completedAt: string | null;
  objectCount: number;
  rootObjectCount: number;
  lines: string[] | null;
  secret: string;
}

interface Level {
  available: number;
  updated_at: string;
}

interface Token {
  shop: string;
  expiresAt: number | null;
}

const MAX_PAGE = 250;
const MAX_QUERY_COST = 1000;

/** Shopify formats REST/webhook times with the shop's offset, to the second. */
export function shopifyTime(d: Date): string {
  const shifted = new Date(d.getTime() - 5 * 3600_000);
  return `${shifted.toISOString().slice(0, 19)}-05:00`;
}

/** GraphQL's DateTime: UTC, to the second. */
function gqlTime(restTime: string): string {
  return `${new Date(restTime).toISOString().slice(0, 19)}Z`;
}

function splitTags(tags: string): string[] {
  return tags
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
}

const gid = (type: string, id: number | string) => `gid://shopify/${type}/${id}`;
const idFromGid = (v: unknown): number | null => {
  const m = /^gid:\/\/shopify\/[A-Za-z]+\/(\d+)/.exec(String(v));
  return m ? Number(m[1]) : null;
};

/** One shop's data: catalog, stock per location, orders, subscriptions, bucket, bulk ops. */
export class FakeShop {
  readonly products = new Map<number, FakeProduct>();
  readonly orders = new Map<number, FakeOrder>();
  readonly locations: FakeLocation[] = [];
  /** inventory item id → location id → level. */
  readonly levels = new Map<number, Map<number, Level>>();
  readonly bulkOps = new Map<string, BulkOp>();
  bucket: Bucket = { available: 2000, at: Date.now() };
  private nextOrderNumber = 1001;

  constructor(
    readonly domain: string,
    readonly currency: string,
    private readonly store: FakeShopify,
    locations: Array<{ name: string; fulfillsOnlineOrders: boolean; isActive?: boolean }>,
  ) {
    for (const l of locations) {
      this.locations.push({
        id: store.newId(),
        name: l.name,
        isActive: l.isActive ?? true,
        fulfillsOnlineOrders: l.fulfillsOnlineOrders,
      });
    }
  }

  addProduct({
    variants = 3,
    title = 'Product',
  }: { variants?: number; title?: string } = {}): FakeProduct {
    const id = this.store.newId();
    const at = shopifyTime(this.store.tick());
    const product: FakeProduct = {
      id,
      title,
      body_html: `<p>${title}</p>`,
      vendor: 'Cool Shop',
      product_type: 'Shirts',
      handle: title.toLowerCase().replace(/[^a-z0-9]+/g, '-'),
      status: 'active',
      tags: '',
      created_at: at,
      updated_at: at,
      published_at: at,
      admin_graphql_api_id: gid('Product', id),
      variants: [],
      image: { id: id + 7, product_id: id, src: `https://cdn.shopify.com/s/files/${id}.jpg` },
      images: [],
    };
    product.images = product.image ? [product.image] : [];
    for (let v = 0; v < variants; v++) {
      const vid = this.store.newId();
      const name = variants > 4 ? `Option ${v + 1}` : ['Small', 'Medium', 'Large', 'XL'][v % 4];
      const variant: FakeVariant = {
        id: vid,
        product_id: id,
        title: name,
        price: (10 + v * 2.5).toFixed(2),
        sku: `SKU-${vid}`,
        position: v + 1,
        inventory_policy: 'deny',
        inventory_management: 'shopify',
        inventory_item_id: vid + 500_000_000,
        inventory_quantity: 5 + (v % 10),
        old_inventory_quantity: 5 + (v % 10),
        created_at: at,
        updated_at: at,
        option1: name,
        admin_graphql_api_id: gid('ProductVariant', vid),
      };
      product.variants.push(variant);
      // All of it at the first location.
      const first = this.locations[0];
      if (first) {
        this.levels.set(
          variant.inventory_item_id,
          new Map([[first.id, { available: variant.inventory_quantity, updated_at: at }]]),
        );
      }
    }
    this.products.set(id, product);
    return product;
  }

  /** Changes a product as the merchant would: updated_at moves forward. */
  updateProduct(
    id: number,
    change: Partial<Pick<FakeProduct, 'title' | 'status'>> & { price?: string },
  ): FakeProduct {
    const p = this.products.get(id);
    if (!p) throw new Error(`no product ${id}`);
    Object.assign(p, { title: change.title ?? p.title, status: change.status ?? p.status });
    if (change.price) for (const v of p.variants) v.price = change.price;
    p.updated_at = shopifyTime(this.store.tick());
    return structuredClone(p);
  }

  deleteProduct(id: number): void {
    this.products.delete(id);
  }

  variant(id: number): FakeVariant | undefined {
    for (const p of this.products.values()) {
      const v = p.variants.find((x) => x.id === id);
      if (v) return v;
    }
    return undefined;
  }

  variantByItem(itemId: number): FakeVariant | undefined {
    for (const p of this.products.values()) {
      const v = p.variants.find((x) => x.inventory_item_id === itemId);
      if (v) return v;
    }
    return undefined;
  }

  /**
   * The merchant sets the stock of an item at one location: the variant's total follows.
   * Returns the inventory_levels/update webhook payload.
   */
  setLevel(
    inventoryItemId: number,
    locationId: number,
    available: number,
  ): {
    inventory_item_id: number;
    location_id: number;
    available: number;
    updated_at: string;
    admin_graphql_api_id: string;
  } {
    const v = this.variantByItem(inventoryItemId);
    if (!v) throw new Error(`no inventory item ${inventoryItemId}`);
    const at = shopifyTime(this.store.tick());
    const perLocation = this.levels.get(inventoryItemId) ?? new Map<number, Level>();
    perLocation.set(locationId, { available, updated_at: at });
    this.levels.set(inventoryItemId, perLocation);
    v.old_inventory_quantity = v.inventory_quantity;
    v.inventory_quantity = [...perLocation.values()].reduce((n, l) => n + l.available, 0);
    return {
      inventory_item_id: inventoryItemId,
      location_id: locationId,
      available,
      updated_at: at,
      admin_graphql_api_id: `gid://shopify/InventoryLevel/${locationId}?inventory_item_id=${inventoryItemId}`,
    };
  }

  /** Orders carrying this tag. */
  ordersTagged(tag: string): FakeOrder[] {
    return [...this.orders.values()].filter((o) => splitTags(o.tags).includes(tag));
  }

  markOrderPaid(id: number): FakeOrder {
    const o = this.orders.get(id);
    if (!o) throw new Error(`no order ${id}`);
    o.financial_status = 'paid';
    o.updated_at = shopifyTime(this.store.tick());
    return structuredClone(o);
  }

  /** What the bucket holds now (it refills at the restore rate). */
  available(): number {
    const { maximumAvailable, restoreRate } = this.store.throttle;
    const now = Date.now();
    this.bucket = {
      available: Math.min(
        maximumAvailable,
        this.bucket.available + ((now - this.bucket.at) / 1000) * restoreRate,
      ),
      at: now,
    };
    return this.bucket.available;
  }

  take(points: number): void {
    this.available();
    this.bucket.available -= points;
  }

  nextOrderNo(): number {
    return this.nextOrderNumber++;
  }
}

interface ExecContext {
  shop: FakeShop;
  bulk: boolean;
}

interface Connection<T> {
  edges: Array<{ cursor: string; node: T }>;
  nodes: T[];
  pageInfo: {
    hasNextPage: boolean;
    hasPreviousPage: boolean;
    startCursor: string | null;
    endCursor: string | null;
  };
}

interface PageArgs {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
}

/**
 * A connection over `items` (already in order), paged by first/after. In a bulk operation:
 * everything, resolved a turn of the event loop later, so a long export runs beside the
 * store's other requests (and the app's, in the same process) instead of blocking them.
 */
function connection<I, T>(
  items: I[],
  args: PageArgs,
  ctx: ExecContext,
  node: (i: I) => T,
): Connection<T> | Promise<Connection<T>> {
  if (ctx.bulk) {
    return new Promise((resolve, reject) =>
      setImmediate(() => {
        try {
          resolve(page(items, args, ctx, node));
        } catch (err) {
          reject(err);
        }
      }),
    );
  }
  return page(items, args, ctx, node);
}

function page<I, T>(
  items: I[],
  args: PageArgs,
  ctx: ExecContext,
  node: (i: I) => T,
): Connection<T> {
  let start = 0;
  if (args.after) {
    const n = Number(Buffer.from(args.after, 'base64url').toString());
    if (!Number.isInteger(n)) throw new GraphQLError('Invalid cursor for current pagination.');
    start = n + 1;
  }
  let count = items.length - start;
  if (!ctx.bulk) {
    const size = args.first ?? args.last;
    if (size === undefined || size === null) {
      throw new GraphQLError('you must provide one of first or last');
    }
    if (size < 0 || size > MAX_PAGE) {
      throw new GraphQLError(`The page size must be between 0 and ${MAX_PAGE}`);
    }
    count = Math.min(count, size);
  }
  const slice = items.slice(start, start + count);
  const cursor = (i: number) => Buffer.from(String(start + i)).toString('base64url');
  const nodes = slice.map(node);
  return {
    edges: nodes.map((n, i) => ({ cursor: cursor(i), node: n })),
    nodes,
    pageInfo: {
      hasNextPage: start + count < items.length,
      hasPreviousPage: start > 0,
      startCursor: slice.length ? cursor(0) : null,
      endCursor: slice.length ? cursor(slice.length - 1) : null,
    },
  };
}

/** The search syntax the app sends: `updated_at:>'ISO'` and `tag:'x'`. */
function parseSearch(q: string | null | undefined): { updatedAfter?: number; tag?: string } {
  if (!q) return {};
  const s = q.trim();
  let m = /^updated_at:>\s*'?([^']+?)'?$/.exec(s);
  if (m) {
    const t = Date.parse(m[1]);
    if (!Number.isFinite(t)) throw new GraphQLError(`Invalid search date ${m[1]}`);
    return { updatedAfter: t };
  }
  m = /^tag:(?:'([^']*)'|"([^"]*)"|(\S+))$/.exec(s);
  if (m) return { tag: (m[1] ?? m[2] ?? m[3]).toLowerCase() };
  throw new GraphQLError(`The local store does not understand the search "${q}"`);
}

/**
 * Shopify's calculated query cost, as documented: an object field costs 1, a scalar or
 * enum 0, a connection 2 plus its page size times what one of its nodes costs, a mutation
 * 10. Returns the requested cost of the operation.
 */
export function queryCost(
  schema: GraphQLSchema,
  doc: DocumentNode,
  op: OperationDefinitionNode,
  variables: Record<string, unknown>,
): number {
  const fragments = new Map(
    doc.definitions
      .filter((d) => d.kind === Kind.FRAGMENT_DEFINITION)
      .map((d) => [d.name.value, d] as const),
  );
  const argValue = (f: FieldNode, name: string): unknown => {
    const a = f.arguments?.find((x) => x.name.value === name);
    return a ? valueFromASTUntyped(a.value, variables) : undefined;
  };
  const walk = (set: SelectionSetNode | undefined, type: GraphQLObjectType | null): number => {
    if (!set) return 0;
    let cost = 0;
    for (const sel of set.selections) {
      if (sel.kind === Kind.INLINE_FRAGMENT) {
        const t = sel.typeCondition ? schema.getType(sel.typeCondition.name.value) : type;
        cost += walk(sel.selectionSet, isObjectType(t) ? t : type);
        continue;
      }
      if (sel.kind === Kind.FRAGMENT_SPREAD) {
        const fr = fragments.get(sel.name.value);
        if (fr) {
          const t = schema.getType(fr.typeCondition.name.value);
          cost += walk(fr.selectionSet, isObjectType(t) ? t : type);
        }
        continue;
      }
      if (!type || sel.name.value.startsWith('__')) continue;
      const def = type.getFields()[sel.name.value];
      if (!def) continue;
      const named = getNamedType(def.type);
      if (!isCompositeType(named)) continue;
      const childType = isObjectType(named) ? named : null;
      if (named.name.endsWith('Connection') && childType) {
        const size = Number(argValue(sel, 'first') ?? argValue(sel, 'last') ?? 0);
        const nodeType = getNamedType(childType.getFields().nodes.type) as GraphQLObjectType;
        let per = 0;
        for (const s of sel.selectionSet?.selections ?? []) {
          if (s.kind !== Kind.FIELD) continue;
          if (s.name.value === 'nodes') per += 1 + walk(s.selectionSet, nodeType);
          if (s.name.value === 'edges') {
            for (const e of s.selectionSet?.selections ?? []) {
              if (e.kind === Kind.FIELD && e.name.value === 'node')
                per += 1 + walk(e.selectionSet, nodeType);
            }
          }
        }
        cost += 2 + size * per;
      } else {
        // An interface (node, featuredMedia): the fragments inside say which type.
        cost += 1 + walk(sel.selectionSet, childType);
      }
    }
    return cost;
  };
  if (op.operation === 'mutation') return 10;
  return walk(op.selectionSet, schema.getQueryType() ?? null);
}

/** Connection fields and their nesting, for the bulk operation's limits. */
function bulkShape(
  schema: GraphQLSchema,
  op: OperationDefinitionNode,
): { count: number; depth: number } {
  let count = 0;
  let depth = 0;
  const walk = (
    set: SelectionSetNode | undefined,
    type: GraphQLObjectType | null,
    level: number,
  ) => {
    for (const sel of set?.selections ?? []) {
      if (sel.kind === Kind.INLINE_FRAGMENT) {
        walk(sel.selectionSet, type, level);
        continue;
      }
      if (sel.kind !== Kind.FIELD || !type) continue;
      const def = type.getFields()[sel.name.value];
      if (!def) continue;
      const named = getNamedType(def.type);
      if (!isObjectType(named)) continue;
      const isConn = named.name.endsWith('Connection');
      if (isConn) {
        count++;
        depth = Math.max(depth, level + 1);
      }
      walk(sel.selectionSet, named, isConn ? level + 1 : level);
    }
  };
  walk(op.selectionSet, schema.getQueryType() ?? null, 0);
  return { count, depth };
}

export class FakeShopify {
  readonly apiKey: string;
  readonly apiSecret: string;
  /** The default shop's domain. */
  readonly shop: string;
  readonly currency: string;
  readonly shops = new Map<string, FakeShop>();
  /** Every webhook subscription, of every shop (topic as in webhooks: `products/update`). */
  readonly webhooks = new Map<
    number,
    { id: number; shop: string; topic: string; address: string }
  >();
  readonly requests: RequestRecord[] = [];
  /** Access tokens issued and still valid, with their shop and expiry. */
  readonly tokens = new Map<string, Token>();
  /** Refresh tokens still valid (each works once: it rotates). */
  readonly refreshTokens = new Map<string, Token>();
  /** Every access and refresh token ever issued (to check none leaks). */
  readonly issuedTokens: string[] = [];
  /** Refresh grants answered, per shop. */
  readonly refreshes = new Map<string, number>();
  /** Lifetime of an expiring access token, seconds (Shopify: 3,600). */
  tokenTtlSeconds = 3600;
  /** The next refresh grants are refused (invalid_grant) while set. */
  refuseRefresh = false;
  /** The GraphQL bucket of every shop. */
  throttle = { maximumAvailable: 2000, restoreRate: 100 };
  /** Whether finished bulk operations fire bulk_operations/finish (off: only polling sees them). */
  bulkWebhooks = true;
  /** How long a bulk operation runs before it completes. */
  bulkDelayMs = 50;
  /** Called as each bulk operation is created (tests make things happen mid-import). */
  onBulkStart: ((query: string, shop: FakeShop) => void) | null = null;
  private readonly schema = shopifyAdminSchema();
  private readonly codes = new Map<string, string>();
  private server!: Server;
  private lastId = 1_000_000;
  /** Catalog history starts a day ago; later changes happen at the real time. */
  private clock = Date.now() - 86_400_000;
  /** The next N Admin API calls answer HTTP 429 with this Retry-After. */
  private rateLimit = { remaining: 0, retryAfter: '1.0', afterCalls: 0 };
  /** Every Admin API call answers 503 (with this Retry-After) while set. */
  private down: { retryAfter?: string } | null = null;
  /** The next N order creations create the order, then drop the connection unanswered. */
  private dropOrderResponses = 0;
  /** The next N bulk result downloads are cut after this many lines (a crash mid-read). */
  private cutBulkResults = { remaining: 0, afterLines: 0 };
  origin = '';

  constructor(opts: FakeShopifyOptions) {
    this.apiKey = opts.apiKey;
    this.apiSecret = opts.apiSecret;
    this.shop = opts.shop ?? 'cool-shop.myshopify.com';
    this.currency = opts.currency ?? 'EUR';
    const main = this.addShop(this.shop, opts.locations);
    const variants = opts.variantsPerProduct ?? 3;
    this.seeding = true;
    for (let i = 0; i < (opts.products ?? 0); i++)
      main.addProduct({ variants, title: `Product ${i + 1}` });
    this.seeding = false;
  }

  newId(): number {
    return ++this.lastId;
  }

  /** Another shop on the same store (its own catalog, tokens, subscriptions, bucket). */
  addShop(
    domain: string,
    locations: FakeShopifyOptions['locations'] = [
      { name: 'Shop location', fulfillsOnlineOrders: true },
    ],
  ): FakeShop {
    const s = new FakeShop(domain, this.currency, this, locations);
    this.shops.set(domain, s);
    return s;
  }

  shopData(domain = this.shop): FakeShop {
    return this.shops.get(domain) ?? this.addShop(domain);
  }

  /** The default shop's catalog and orders. */
  get products(): Map<number, FakeProduct> {
    return this.shopData().products;
  }
  get orders(): Map<number, FakeOrder> {
    return this.shopData().orders;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: Error) => {
        if (res.headersSent) return void res.destroy();
        res.statusCode = 500;
        res.end(JSON.stringify({ errors: err.message }));
      });
    });
    this.server.keepAliveTimeout = 60_000;
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.origin = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  /**
   * A strictly increasing store clock (Shopify's times have one-second precision): the
   * catalog made at start is history (a day ago, a second apart), later changes happen at
   * the real time.
   */
  tick(): Date {
    this.clock = this.seeding
      ? this.clock + 1000
      : Math.max(this.clock + 1000, Math.floor(Date.now() / 1000) * 1000);
    return new Date(this.clock);
  }
  private seeding = false;

  addProduct(opts: { variants?: number; title?: string } = {}): FakeProduct {
    return this.shopData().addProduct(opts);
  }

  updateProduct(
    id: number,
    change: Partial<Pick<FakeProduct, 'title' | 'status'>> & { price?: string },
  ): FakeProduct {
    return this.shopData().updateProduct(id, change);
  }

  deleteProduct(id: number): void {
    this.shopData().deleteProduct(id);
  }

  ordersTagged(tag: string): FakeOrder[] {
    return this.shopData().ordersTagged(tag);
  }

  markOrderPaid(id: number): FakeOrder {
    return this.shopData().markOrderPaid(id);
  }

  rateLimitNext(count: number, retryAfter = '1.0', afterCalls = 0): void {
    this.rateLimit = { remaining: count, retryAfter, afterCalls };
  }

  /**
   * Empties the shop's bucket just before its next GraphQL call is costed, as another
   * client of the same app and shop would (the caller's own pacing cannot see it coming).
   */
  drainBucketBeforeNextCall(domain = this.shop): void {
    this.drainNext.add(domain);
  }
  private readonly drainNext = new Set<string>();

  /** Empties a shop's GraphQL bucket now (it refills at the restore rate). */
  drainBucket(domain = this.shop): void {
    this.shopData(domain).bucket = { available: 0, at: Date.now() };
  }

  /** The next `count` bulk result downloads stop after `afterLines` lines (connection cut). */
  cutNextBulkResults(count: number, afterLines: number): void {
    this.cutBulkResults = { remaining: count, afterLines };
  }

  setDown(down: boolean, retryAfter?: string): void {
    this.down = down ? { retryAfter } : null;
  }

  dropNextOrderResponses(count = 1): void {
    this.dropOrderResponses = count;
  }

  /** Every access token stops working now (as when an hour has passed); refresh tokens stay. */
  expireAccessTokens(): void {
    for (const t of this.tokens.values()) t.expiresAt = Date.now() - 1;
  }

  revokeAllTokens(): void {
    this.tokens.clear();
    this.refreshTokens.clear();
  }

  /** What Shopify's consent screen does once the merchant approves: a signed redirect. */
  signedCallbackQuery(
    params: { state: string; shop?: string; code?: string; timestamp?: number },
    secret = this.apiSecret,
  ): URLSearchParams {
    const code = params.code ?? randomBytes(16).toString('hex');
    const shop = params.shop ?? this.shop;
    const q = new URLSearchParams({
      code,
      host: Buffer.from(`admin.shopify.com/store/${shop.split('.')[0]}`).toString('base64'),
      shop,
      state: params.state,
      timestamp: String(params.timestamp ?? Math.floor(Date.now() / 1000)),
    });
    const message = new URLSearchParams(
      [...q.entries()].sort(([a], [b]) => (a < b ? -1 : 1)),
    ).toString();
    q.set('hmac', createHmac('sha256', secret).update(message).digest('hex'));
    this.codes.set(code, shop);
    return q;
  }

  /** Headers of a webhook as Shopify sends it, signed over `body`. */
  webhookHeaders(
    topic: string,
    body: Buffer,
    opts: {
      eventId?: string;
      webhookId?: string;
      triggeredAt?: string;
      secret?: string;
      shop?: string;
    } = {},
  ): Record<string, string> {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'x-shopify-topic': topic,
      'x-shopify-hmac-sha256': createHmac('sha256', opts.secret ?? this.apiSecret)
        .update(body)
        .digest('base64'),
      'x-shopify-shop-domain': opts.shop ?? this.shop,
      'x-shopify-api-version': '2026-10',
      'x-shopify-webhook-id': opts.webhookId ?? randomBytes(16).toString('hex'),
      'x-shopify-triggered-at': opts.triggeredAt ?? new Date().toISOString(),
    };
    if (opts.eventId !== undefined) headers['x-shopify-event-id'] = opts.eventId;
    return headers;
  }

  /** POSTs a webhook the way Shopify does: JSON body, base64 HMAC of the raw bytes. */
  async sendWebhook(
    address: string,
    topic: string,
    payload: unknown,
    opts: {
      eventId?: string;
      webhookId?: string;
      triggeredAt?: string;
      secret?: string;
      shop?: string;
      rawBody?: Buffer;
    } = {},
  ): Promise<{ status: number; body: string }> {
    const body = opts.rawBody ?? Buffer.from(JSON.stringify(payload));
    const res = await fetch(address, {
      method: 'POST',
      headers: this.webhookHeaders(topic, body, opts),
      body,
    });
    return { status: res.status, body: await res.text() };
  }

  private send(
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ): void {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
    res.end(JSON.stringify(body));
  }

  private async readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    if (!text) return {};
    if ((req.headers['content-type'] ?? '').includes('application/x-www-form-urlencoded')) {
      return Object.fromEntries(new URLSearchParams(text));
    }
    return JSON.parse(text) as Record<string, unknown>;
  }

  /** The shop a request is for: its Host (as at Shopify), else the default shop. */
  private shopOf(req: IncomingMessage): string {
    const host = (req.headers.host ?? '').toLowerCase();
    return /\.myshopify\.com$/.test(host) ? host : this.shop;
  }

  private issue(shop: string, expiring: boolean): Record<string, unknown> {
    const token = `shpat_${randomBytes(16).toString('hex')}`;
    this.tokens.set(token, {
      shop,
      expiresAt: expiring ? Date.now() + this.tokenTtlSeconds * 1000 : null,
    });
    this.issuedTokens.push(token);
    const answer: Record<string, unknown> = {
      access_token: token,
      scope: 'read_products,read_inventory,read_locations,write_orders,read_orders',
    };
    if (expiring) {
      const refresh = `shprt_${randomBytes(16).toString('hex')}`;
      this.refreshTokens.set(refresh, { shop, expiresAt: Date.now() + 90 * 86_400_000 });
      this.issuedTokens.push(refresh);
      Object.assign(answer, {
        expires_in: this.tokenTtlSeconds,
        refresh_token: refresh,
        refresh_token_expires_in: 90 * 86_400,
      });
    }
    return answer;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.origin);
    const query = Object.fromEntries(url.searchParams);
    const shop = this.shopOf(req);
    const record: RequestRecord = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query,
      status: 0,
      shop,
      at: Date.now(),
      fields: [],
      search: null,
      throttled: null,
    };
    this.requests.push(record);
    const origEnd = res.end.bind(res);
    res.end = ((...args: Parameters<ServerResponse['end']>) => {
      record.status = res.statusCode;
      return origEnd(...args);
    }) as ServerResponse['end'];

    if (req.method === 'GET' && url.pathname === '/admin/oauth/authorize') {
      // The merchant approves at once; Shopify redirects to redirect_uri with a signed query.
      if (query.client_id !== this.apiKey)
        return this.send(res, 400, { errors: 'unknown client_id' });
      const q = this.signedCallbackQuery({ state: query.state, shop });
      res.writeHead(302, { location: `${query.redirect_uri}?${q.toString()}` });
      return void res.end();
    }
    if (req.method === 'POST' && url.pathname === '/admin/oauth/access_token') {
      return this.accessToken(req, res, shop);
    }
    const bulk = /^\/bulk-results\/(\d+)\.jsonl$/.exec(url.pathname);
    if (req.method === 'GET' && bulk) return this.bulkResult(res, bulk[1], query.sig);

    const m = /^\/admin\/api\/(\d{4}-\d{2})\/(.+)$/.exec(url.pathname);
    if (!m) return this.send(res, 404, { errors: 'Not Found' });
    const token = req.headers['x-shopify-access-token'];
    const known = typeof token === 'string' ? this.tokens.get(token) : undefined;
    if (
      !known ||
      known.shop !== shop ||
      (known.expiresAt !== null && known.expiresAt < Date.now())
    ) {
      return this.send(res, 401, {
        errors: '[API] Invalid API key or access token (unrecognized login or wrong password)',
      });
    }
    if (this.down) {
      return this.send(
        res,
        503,
        { errors: 'Service Unavailable' },
        this.down.retryAfter ? { 'retry-after': this.down.retryAfter } : {},
      );
    }
    if (this.rateLimit.remaining > 0) {
      if (this.rateLimit.afterCalls > 0) this.rateLimit.afterCalls--;
      else {
        this.rateLimit.remaining--;
        return this.send(
          res,
          429,
          {
            errors:
              'Exceeded the rate limit. Reduce request rates to resume uninterrupted service.',
          },
          { 'retry-after': this.rateLimit.retryAfter },
        );
      }
    }
    if (req.method === 'POST' && m[2] === 'graphql.json') {
      return this.graphql(req, res, this.shopData(shop), record);
    }
    // The REST Admin API is legacy: a GraphQL-only app never calls it.
    return this.send(res, 404, { errors: 'Not Found' });
  }

  private async accessToken(
    req: IncomingMessage,
    res: ServerResponse,
    shop: string,
  ): Promise<void> {
    const body = await this.readBody(req);
    if (body.client_id !== this.apiKey || body.client_secret !== this.apiSecret) {
      return this.send(res, 400, { error: 'invalid_client' });
    }
    if (body.grant_type === 'refresh_token') {
      const rt = String(body.refresh_token ?? '');
      const known = this.refreshTokens.get(rt);
      if (
        this.refuseRefresh ||
        !known ||
        known.shop !== shop ||
        (known.expiresAt !== null && known.expiresAt < Date.now())
      ) {
        return this.send(res, 400, {
          error: 'invalid_grant',
          error_description: 'The refresh token is invalid, expired or was already used',
        });
      }
      this.refreshTokens.delete(rt); // rotates: the old one never works again
      this.refreshes.set(shop, (this.refreshes.get(shop) ?? 0) + 1);
      return this.send(res, 200, this.issue(shop, true));
    }
    const code = String(body.code ?? '');
    if (this.codes.get(code) !== shop)
      return this.send(res, 400, {
        error: 'invalid_request',
        error_description: 'The authorization code was not found or was already used',
      });
    this.codes.delete(code);
    const expiring = body.expiring === 1 || body.expiring === '1';
    return this.send(res, 200, this.issue(shop, expiring));
  }

  /** POST graphql.json: parse, validate, cost, throttle, execute. */
  private async graphql(
    req: IncomingMessage,
    res: ServerResponse,
    shop: FakeShop,
    record: RequestRecord,
  ): Promise<void> {
    const body = (await this.readBody(req)) as {
      query?: string;
      variables?: Record<string, unknown>;
      operationName?: string;
    };
    if (typeof body.query !== 'string') {
      return this.send(res, 400, { errors: { query: 'Required parameter missing or invalid' } });
    }
    let doc: DocumentNode;
    try {
      doc = parse(body.query);
    } catch (err) {
      return this.send(res, 200, { errors: [{ message: (err as Error).message }] });
    }
    const invalid = validate(this.schema, doc);
    if (invalid.length > 0) {
      return this.send(res, 200, {
        errors: invalid.map((e) => ({
          message: e.message,
          extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
        })),
      });
    }
    const op = doc.definitions.find(
      (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
    )!;
    record.fields = op.selectionSet.selections
      .filter((s): s is FieldNode => s.kind === Kind.FIELD)
      .map((s) => s.name.value);
    if (this.drainNext.delete(shop.domain)) shop.bucket = { available: 0, at: Date.now() };
    const variables = body.variables ?? {};
    record.search = typeof variables.query === 'string' ? variables.query : null;
    const requested = queryCost(this.schema, doc, op, variables);
    const status = () => ({
      maximumAvailable: this.throttle.maximumAvailable,
      currentlyAvailable: Math.floor(shop.available()),
      restoreRate: this.throttle.restoreRate,
    });
    if (requested > MAX_QUERY_COST) {
      return this.send(res, 200, {
        errors: [
          {
            message: `Query cost is ${requested}, which exceeds the single query max cost limit (${MAX_QUERY_COST}).`,
            extensions: { code: 'MAX_COST_EXCEEDED', cost: requested, maxCost: MAX_QUERY_COST },
          },
        ],
      });
    }
    const available = shop.available();
    if (requested > available) {
      record.throttled = {
        requested,
        available: Math.floor(available),
        restoreRate: this.throttle.restoreRate,
      };
      return this.send(res, 200, {
        errors: [
          {
            message: 'Throttled',
            extensions: {
              code: 'THROTTLED',
              documentation: 'https://shopify.dev/api/usage/rate-limits',
            },
          },
        ],
        extensions: {
          cost: { requestedQueryCost: requested, actualQueryCost: null, throttleStatus: status() },
        },
      });
    }
    shop.take(requested);
    const ctx: ExecContext = { shop, bulk: false };
    const result = await execute({
      schema: this.schema,
      document: doc,
      rootValue: op.operation === 'mutation' ? this.mutations(shop) : this.queries(shop),
      contextValue: ctx,
      variableValues: variables,
    });
    if (this.dropOrderResponses > 0 && record.fields.includes('orderCreate')) {
      const created = (result.data as { orderCreate?: { order?: unknown } } | null)?.orderCreate
        ?.order;
      if (created) {
        // Created in the store, but the caller never hears about it.
        this.dropOrderResponses--;
        req.socket.destroy();
        return;
      }
    }
    const actual = Math.min(
      requested,
      countObjects(result.data) + (op.operation === 'mutation' ? 10 : 0),
    );
    shop.take(actual - requested); // the difference is refunded
    return this.send(res, 200, {
      ...(result.data !== undefined ? { data: result.data } : {}),
      ...(result.errors
        ? { errors: result.errors.map((e) => ({ message: e.message, path: e.path })) }
        : {}),
      extensions: {
        cost: { requestedQueryCost: requested, actualQueryCost: actual, throttleStatus: status() },
      },
    });
  }

  // --- the object graph the resolvers walk (graphql-js calls function-valued fields) ---

  private productObj(shop: FakeShop, p: FakeProduct): Record<string, unknown> {
    return {
      __typename: 'Product',
      id: p.admin_graphql_api_id,
      legacyResourceId: String(p.id),
      title: p.title,
      handle: p.handle,
      status: p.status.toUpperCase(),
      tags: splitTags(p.tags),
      createdAt: gqlTime(p.created_at),
      updatedAt: gqlTime(p.updated_at),
      featuredMedia: p.image
        ? {
            __typename: 'MediaImage',
            id: gid('MediaImage', p.image.id),
            preview: { image: { url: p.image.src } },
            image: { url: p.image.src },
          }
        : null,
      variants: (args: PageArgs, ctx: ExecContext) =>
        connection(p.variants, args, ctx, (v) => this.variantObj(shop, v, p)),
    };
  }

  private variantObj(shop: FakeShop, v: FakeVariant, p: FakeProduct): Record<string, unknown> {
    return {
      __typename: 'ProductVariant',
      id: v.admin_graphql_api_id,
      legacyResourceId: String(v.id),
      title: v.title,
      sku: v.sku,
      price: v.price,
      position: v.position,
      inventoryPolicy: v.inventory_policy.toUpperCase(),
      inventoryQuantity: v.inventory_quantity,
      inventoryItem: () => this.itemObj(shop, v, p),
      product: () => this.productObj(shop, p),
    };
  }

  private itemObj(shop: FakeShop, v: FakeVariant, p: FakeProduct): Record<string, unknown> {
    const itemGid = gid('InventoryItem', v.inventory_item_id);
    return {
      __typename: 'InventoryItem',
      id: itemGid,
      legacyResourceId: String(v.inventory_item_id),
      tracked: v.inventory_management !== null,
      updatedAt: gqlTime(v.updated_at),
      variant: () => this.variantObj(shop, v, p),
      inventoryLevels: (args: PageArgs, ctx: ExecContext) => {
        const levels = [...(shop.levels.get(v.inventory_item_id) ?? new Map<number, Level>())];
        return connection(levels, args, ctx, ([locationId, level]) => ({
          __typename: 'InventoryLevel',
          id: `gid://shopify/InventoryLevel/${locationId}?inventory_item_id=${v.inventory_item_id}`,
          updatedAt: gqlTime(level.updated_at),
          location: this.locationObj(shop.locations.find((l) => l.id === locationId)!),
          item: () => this.itemObj(shop, v, p),
          quantities: ({ names }: { names: string[] }) =>
            names.map((name) => ({
              name,
              quantity: name === 'available' || name === 'on_hand' ? level.available : 0,
            })),
        }));
      },
    };
  }

  private locationObj(l: FakeLocation): Record<string, unknown> {
    return {
      __typename: 'Location',
      id: gid('Location', l.id),
      legacyResourceId: String(l.id),
      name: l.name,
      isActive: l.isActive,
      fulfillsOnlineOrders: l.fulfillsOnlineOrders,
    };
  }

  private bulkObj(op: BulkOp): Record<string, unknown> {
    const done = op.status === 'COMPLETED';
    return {
      __typename: 'BulkOperation',
      id: op.id,
      status: op.status,
      errorCode: null,
      type: 'QUERY',
      query: op.query,
      createdAt: op.createdAt,
      completedAt: op.completedAt,
      objectCount: String(op.objectCount),
      rootObjectCount: String(op.rootObjectCount),
      fileSize: done ? String(op.lines?.reduce((n, l) => n + l.length + 1, 0) ?? 0) : null,
      url:
        done && op.lines && op.lines.length > 0
          ? `${this.origin}/bulk-results/${idFromGid(op.id)}.jsonl?sig=${op.secret}`
          : null,
      partialDataUrl: null,
    };
  }

  private productList(shop: FakeShop, search: string | null | undefined): FakeProduct[] {
    const { updatedAfter } = parseSearch(search);
    return [...shop.products.values()]
      .filter((p) => updatedAfter === undefined || Date.parse(p.updated_at) > updatedAfter)
      .sort((a, b) => a.id - b.id);
  }

  private queries(shop: FakeShop): Record<string, unknown> {
    const nodeById = (id: string): unknown => {
      const n = idFromGid(id);
      if (id.startsWith('gid://shopify/BulkOperation/')) {
        const op = shop.bulkOps.get(id);
        return op ? this.bulkObj(op) : null;
      }
      if (id.startsWith('gid://shopify/Product/') && n !== null) {
        const p = shop.products.get(n);
        return p ? this.productObj(shop, p) : null;
      }
      return null;
    };
    return {
      shop: {
        __typename: 'Shop',
        id: gid('Shop', 1),
        name: 'Cool Shop',
        myshopifyDomain: shop.domain,
        currencyCode: shop.currency,
      },
      node: ({ id }: { id: string }) => nodeById(id),
      product: ({ id }: { id: string }) => nodeById(id),
      products: (args: PageArgs & { query?: string }, ctx: ExecContext) =>
        connection(this.productList(shop, args.query), args, ctx, (p) => this.productObj(shop, p)),
      productsCount: ({ query, limit }: { query?: string; limit?: number | null }) => {
        const n = this.productList(shop, query).length;
        const cap = limit === undefined ? 10_000 : limit;
        return cap !== null && n > cap
          ? { count: cap, precision: 'AT_LEAST' }
          : { count: n, precision: 'EXACT' };
      },
      locations: (args: PageArgs & { includeInactive?: boolean }, ctx: ExecContext) =>
        connection(
          shop.locations.filter((l) => args.includeInactive || l.isActive),
          args,
          ctx,
          (l) => this.locationObj(l),
        ),
      inventoryItems: (args: PageArgs & { query?: string }, ctx: ExecContext) => {
        const { updatedAfter } = parseSearch(args.query);
        const items = [...shop.products.values()]
          .sort((a, b) => a.id - b.id)
          .flatMap((p) => p.variants.map((v) => ({ p, v })))
          .filter(({ v }) => {
            if (updatedAfter === undefined) return true;
            const levels = [...(shop.levels.get(v.inventory_item_id)?.values() ?? [])];
            return levels.some((l) => Date.parse(l.updated_at) > updatedAfter);
          });
        return connection(items, args, ctx, ({ p, v }) => this.itemObj(shop, v, p));
      },
      orders: (args: PageArgs & { query?: string }, ctx: ExecContext) => {
        const { tag } = parseSearch(args.query);
        const list = [...shop.orders.values()].filter(
          (o) => tag === undefined || splitTags(o.tags).some((t) => t.toLowerCase() === tag),
        );
        return connection(list, args, ctx, (o) => ({
          __typename: 'Order',
          id: o.admin_graphql_api_id,
          legacyResourceId: String(o.id),
          name: o.name,
          tags: splitTags(o.tags),
        }));
      },
      webhookSubscriptions: (args: PageArgs & { topics?: string[] }, ctx: ExecContext) => {
        const list = [...this.webhooks.values()].filter(
          (w) =>
            w.shop === shop.domain && (!args.topics || args.topics.includes(topicEnum(w.topic))),
        );
        return connection(list, args, ctx, (w) => this.subscriptionObj(w));
      },
    };
  }

  private subscriptionObj(w: {
    id: number;
    topic: string;
    address: string;
  }): Record<string, unknown> {
    return {
      __typename: 'WebhookSubscription',
      id: gid('WebhookSubscription', w.id),
      topic: topicEnum(w.topic),
      uri: w.address,
      format: 'JSON',
    };
  }

  private mutations(shop: FakeShop): Record<string, unknown> {
    return {
      webhookSubscriptionCreate: ({
        topic,
        webhookSubscription,
      }: {
        topic: string;
        webhookSubscription: { uri?: string };
      }) => {
        const rest = REST_TOPICS.find((t) => topicEnum(t) === topic);
        if (!rest) throw new GraphQLError(`topic ${topic} is not served by the local store`);
        const uri = webhookSubscription.uri ?? '';
        if (!/^https?:\/\//.test(uri)) {
          return {
            webhookSubscription: null,
            userErrors: [{ field: ['webhookSubscription', 'uri'], message: 'Address is invalid' }],
          };
        }
        if (
          [...this.webhooks.values()].some(
            (w) => w.shop === shop.domain && w.topic === rest && w.address === uri,
          )
        ) {
          return {
            webhookSubscription: null,
            userErrors: [
              {
                field: ['webhookSubscription', 'callbackUrl'],
                message: 'Address for this topic has already been taken',
              },
            ],
          };
        }
        const id = this.newId();
        const hook = { id, shop: shop.domain, topic: rest, address: uri };
        this.webhooks.set(id, hook);
        return { webhookSubscription: this.subscriptionObj(hook), userErrors: [] };
      },
      webhookSubscriptionDelete: ({ id }: { id: string }) => {
        const n = idFromGid(id);
        const hook = n !== null ? this.webhooks.get(n) : undefined;
        if (!hook || hook.shop !== shop.domain) {
          return {
            deletedWebhookSubscriptionId: null,
            userErrors: [{ field: ['id'], message: 'Webhook subscription does not exist' }],
          };
        }
        this.webhooks.delete(n!);
        return { deletedWebhookSubscriptionId: id, userErrors: [] };
      },
      bulkOperationRunQuery: ({ query }: { query: string }) => this.runBulk(shop, query),
      orderCreate: (args: { order: Record<string, unknown>; options?: Record<string, unknown> }) =>
        this.orderCreate(shop, args.order, args.options ?? {}),
    };
  }

  private runBulk(shop: FakeShop, query: string): Record<string, unknown> {
    const fail = (message: string, code = 'INVALID') => ({
      bulkOperation: null,
      userErrors: [{ field: ['query'], message, code }],
    });
    let doc: DocumentNode;
    try {
      doc = parse(query);
    } catch (err) {
      return fail((err as Error).message);
    }
    const invalid = validate(this.schema, doc);
    if (invalid.length) return fail(invalid.map((e) => e.message).join('; '));
    const op = doc.definitions.find(
      (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
    );
    if (!op || op.operation !== 'query') return fail('Bulk queries must be queries');
    const shape = bulkShape(this.schema, op);
    if (shape.count === 0) return fail('Bulk queries must contain at least one connection.');
    if (shape.count > 5) return fail('Bulk queries cannot contain more than 5 connections.');
    if (shape.depth > 2)
      return fail('Bulk queries cannot contain connections with a nesting depth greater than 2.');
    const running = [...shop.bulkOps.values()].filter(
      (o) => o.status === 'RUNNING' || o.status === 'CREATED',
    );
    if (running.length >= 5) {
      return fail(
        'A bulk query operation for this app and shop is already in progress',
        'OPERATION_IN_PROGRESS',
      );
    }
    const id = gid('BulkOperation', this.newId());
    const bulkOp: BulkOp = {
      id,
      shop: shop.domain,
      status: 'CREATED',
      query,
      createdAt: `${new Date().toISOString().slice(0, 19)}Z`,
      completedAt: null,
      objectCount: 0,
      rootObjectCount: 0,
      lines: null,
      secret: randomBytes(12).toString('hex'),
    };
    shop.bulkOps.set(id, bulkOp);
    this.onBulkStart?.(query, shop);
    setTimeout(() => {
      bulkOp.status = 'RUNNING';
      void this.finishBulk(shop, bulkOp, doc);
    }, this.bulkDelayMs).unref();
    return { bulkOperation: this.bulkObj(bulkOp), userErrors: [] };
  }

  private async finishBulk(shop: FakeShop, bulkOp: BulkOp, doc: DocumentNode): Promise<void> {
    const result = await execute({
      schema: this.schema,
      document: doc,
      rootValue: this.queries(shop),
      contextValue: { shop, bulk: true } satisfies ExecContext,
    });
    const lines: string[] = [];
    let roots = 0;
    const emit = (node: Record<string, unknown>, parentId: string | null, root: boolean) => {
      const own: Record<string, unknown> = {};
      const children: Array<Record<string, unknown>> = [];
      for (const [k, v] of Object.entries(node)) {
        if (isConnectionValue(v)) children.push(...connectionNodes(v));
        else own[k] = v;
      }
      if (parentId) own.__parentId = parentId;
      lines.push(JSON.stringify(own));
      if (root) roots++;
      for (const c of children) emit(c, String(node.id), false);
    };
    for (const top of Object.values(result.data ?? {})) {
      if (isConnectionValue(top)) for (const n of connectionNodes(top)) emit(n, null, true);
    }
    bulkOp.lines = lines;
    bulkOp.objectCount = lines.length;
    bulkOp.rootObjectCount = roots;
    bulkOp.status = result.errors?.length ? 'FAILED' : 'COMPLETED';
    bulkOp.completedAt = `${new Date().toISOString().slice(0, 19)}Z`;
    if (!this.bulkWebhooks) return;
    const payload = {
      admin_graphql_api_id: bulkOp.id,
      completed_at: bulkOp.completedAt,
      created_at: bulkOp.createdAt,
      error_code: null,
      status: bulkOp.status.toLowerCase(),
      type: 'query',
    };
    for (const w of this.webhooks.values()) {
      if (w.shop !== shop.domain || w.topic !== 'bulk_operations/finish') continue;
      await this.sendWebhook(w.address, w.topic, payload, { shop: shop.domain }).catch(
        () => undefined,
      );
    }
  }

  /** The JSONL of a finished bulk operation, streamed (a signed URL: no token). */
  private bulkResult(res: ServerResponse, n: string, sig: string | undefined): void {
    const op = [...this.shops.values()]
      .flatMap((s) => [...s.bulkOps.values()])
      .find((o) => o.id === gid('BulkOperation', n));
    if (!op || !op.lines || op.secret !== sig)
      return this.send(res, 403, { error: 'AccessDenied' });
    const cut = this.cutBulkResults.remaining > 0 ? this.cutBulkResults.afterLines : Infinity;
    if (this.cutBulkResults.remaining > 0) this.cutBulkResults.remaining--;
    res.writeHead(200, { 'content-type': 'application/jsonl' });
    const lines = op.lines;
    let i = 0;
    const pump = () => {
      while (i < lines.length) {
        if (i >= cut) {
          // The connection drops mid-file (the reader sees an aborted stream).
          res.destroy();
          return;
        }
        const ok = res.write(`${lines[i++]}\n`);
        if (!ok) return void res.once('drain', pump);
      }
      res.end();
    };
    pump();
  }

  private orderCreate(
    shop: FakeShop,
    input: Record<string, unknown>,
    options: Record<string, unknown>,
  ): Record<string, unknown> {
    const items = (input.lineItems as Array<{ variantId?: string; quantity: number }>) ?? [];
    const userErrors: Array<{ field: string[]; message: string; code: string }> = [];
    if (items.length === 0) {
      return {
        order: null,
        userErrors: [{ field: ['order', 'lineItems'], message: "can't be blank", code: 'INVALID' }],
      };
    }
    const behaviour = String(options.inventoryBehaviour ?? 'BYPASS');
    const lines: FakeOrderLineItem[] = [];
    for (const [i, item] of items.entries()) {
      const vid = idFromGid(item.variantId);
      const v = vid !== null ? shop.variant(vid) : undefined;
      if (!v) {
        userErrors.push({
          field: ['order', 'lineItems', String(i)],
          message: `Variant ${String(item.variantId)} does not exist`,
          code: 'PRODUCT_NOT_FOUND',
        });
        continue;
      }
      if (!Number.isInteger(item.quantity) || item.quantity < 1) {
        userErrors.push({
          field: ['order', 'lineItems', String(i), 'quantity'],
          message: 'Quantity must be greater than or equal to 1',
          code: 'INVALID',
        });
        continue;
      }
      if (
        behaviour === 'DECREMENT_OBEYING_POLICY' &&
        v.inventory_management === 'shopify' &&
        v.inventory_policy === 'deny' &&
        v.inventory_quantity < item.quantity
      ) {
        userErrors.push({
          field: ['order', 'lineItems', String(i)],
          message: `${shop.products.get(v.product_id)?.title ?? 'Product'} - ${v.title} is out of stock`,
          code: 'INVENTORY_NOT_AVAILABLE',
        });
        continue;
      }
      lines.push({
        id: this.newId(),
        variant_id: v.id,
        product_id: v.product_id,
        title: shop.products.get(v.product_id)?.title ?? '',
        variant_title: v.title,
        sku: v.sku,
        quantity: item.quantity,
        price: v.price,
      });
    }
    if (userErrors.length) return { order: null, userErrors };
    if (behaviour !== 'BYPASS') {
      for (const l of lines) {
        const v = shop.variant(l.variant_id)!;
        // Taken from the locations in order, as far as each has stock.
        let left = l.quantity;
        const levels = shop.levels.get(v.inventory_item_id);
        for (const level of levels?.values() ?? []) {
          const take = Math.min(left, Math.max(0, level.available));
          level.available -= take;
          left -= take;
          if (left === 0) break;
        }
        if (left > 0 && levels?.size) [...levels.values()][0].available -= left;
        v.old_inventory_quantity = v.inventory_quantity;
        v.inventory_quantity -= l.quantity;
      }
    }
    const id = this.newId();
    const at = shopifyTime(this.tick());
    const cents = lines.reduce((n, l) => n + Math.round(Number(l.price) * 100) * l.quantity, 0);
    const total = (cents / 100).toFixed(2);
    const number = shop.nextOrderNo();
    const customer = (input.customer as { toUpsert?: Record<string, unknown> } | undefined)
      ?.toUpsert;
    const address = input.shippingAddress as Record<string, unknown> | undefined;
    const order: FakeOrder = {
      id,
      admin_graphql_api_id: gid('Order', id),
      name: `#${number}`,
      order_number: number,
      email: String(input.email ?? ''),
      currency: typeof input.currency === 'string' ? input.currency : shop.currency,
      total_price: total,
      subtotal_price: total,
      financial_status: String(input.financialStatus ?? 'PAID').toLowerCase(),
      fulfillment_status: null,
      cancelled_at: null,
      tags: ((input.tags as string[] | undefined) ?? []).join(', '),
      note: typeof input.note === 'string' ? input.note : null,
      note_attributes: (
        (input.customAttributes as Array<{ key: string; value: string }>) ?? []
      ).map((a) => ({ name: a.key, value: a.value })),
      source_identifier: typeof input.sourceIdentifier === 'string' ? input.sourceIdentifier : null,
      line_items: lines,
      customer: customer
        ? { email: customer.email, first_name: customer.firstName, last_name: customer.lastName }
        : null,
      shipping_address: address
        ? {
            first_name: address.firstName,
            last_name: address.lastName,
            address1: address.address1,
            address2: address.address2,
            city: address.city,
            province_code: address.provinceCode,
            zip: address.zip,
            country_code: address.countryCode,
            phone: address.phone,
          }
        : null,
      created_at: at,
      updated_at: at,
    };
    shop.orders.set(id, order);
    return {
      order: {
        __typename: 'Order',
        id: order.admin_graphql_api_id,
        legacyResourceId: String(id),
        name: order.name,
        tags: splitTags(order.tags),
      },
      userErrors: [],
    };
  }
}

const REST_TOPICS = [
  'app/uninstalled',
  'bulk_operations/finish',
  'inventory_levels/update',
  'orders/cancelled',
  'orders/create',
  'orders/fulfilled',
  'orders/paid',
  'orders/updated',
  'products/create',
  'products/delete',
  'products/update',
  'refunds/create',
];

/** `products/update` → `PRODUCTS_UPDATE`. */
function topicEnum(topic: string): string {
  return topic.replace(/\//g, '_').toUpperCase();
}

function isConnectionValue(v: unknown): v is {
  edges?: Array<{ node: Record<string, unknown> }>;
  nodes?: Array<Record<string, unknown>>;
} {
  return (
    typeof v === 'object' &&
    v !== null &&
    !Array.isArray(v) &&
    (Array.isArray((v as { edges?: unknown }).edges) ||
      Array.isArray((v as { nodes?: unknown }).nodes))
  );
}

function connectionNodes(v: {
  edges?: Array<{ node: Record<string, unknown> }>;
  nodes?: Array<Record<string, unknown>>;
}): Array<Record<string, unknown>> {
  return v.nodes ?? (v.edges ?? []).map((e) => e.node);
}

/** Objects in a result (the actual cost: what was returned, not what was asked for). */
function countObjects(v: unknown): number {
  if (Array.isArray(v)) return v.reduce((n: number, x) => n + countObjects(x), 0);
  if (typeof v !== 'object' || v === null) return 0;
  let n = 1;
  for (const x of Object.values(v)) n += countObjects(x);
  return n;
}

export async function startFakeShopify(opts: FakeShopifyOptions): Promise<FakeShopify> {
  return new FakeShopify(opts).start();
}
