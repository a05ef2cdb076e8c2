import { createHmac, randomBytes } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local Shopify-like store on 127.0.0.1 (a real HTTP server), speaking the parts of
 * Shopify's documented behaviour Castbridge uses: the OAuth authorization-code grant
 * (authorize redirect with a hex `hmac` over the sorted query, access_token exchange),
 * the REST Admin API (products with Link-header cursor pagination, products/count,
 * shop, webhooks, orders: `POST orders.json` with stock checked under
 * `inventory_behaviour`), the GraphQL Admin API's `orders(query: "tag:…")` search,
 * `X-Shopify-Shop-Api-Call-Limit`, 429 + `Retry-After`, and signed webhooks (base64 HMAC
 * of the raw body) sent to a URL. Point SHOPIFY_API_ORIGIN at it. Tests can take it down
 * (every Admin API call answers 503) or make it create an order and drop the connection
 * before answering (a lost response).
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

/** An order as the REST Admin API shows it (the fields Castbridge and its tests read). */
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

export interface FakeShopifyOptions {
  apiKey: string;
  apiSecret: string;
  shop?: string;
  products?: number;
  variantsPerProduct?: number;
  currency?: string;
}

interface RequestRecord {
  method: string;
  path: string;
  query: Record<string, string>;
  status: number;
}

const BUCKET_SIZE = 40;
const MAX_LIMIT = 250;

/** Shopify formats times with the shop's offset, to the second. */
export function shopifyTime(d: Date): string {
  const shifted = new Date(d.getTime() - 5 * 3600_000);
  return `${shifted.toISOString().slice(0, 19)}-05:00`;
}

export class FakeShopify {
  readonly apiKey: string;
  readonly apiSecret: string;
  readonly shop: string;
  readonly currency: string;
  readonly products = new Map<number, FakeProduct>();
  readonly webhooks = new Map<number, { id: number; topic: string; address: string }>();
  readonly requests: RequestRecord[] = [];
  /** Tokens issued and still valid. */
  readonly tokens = new Set<string>();
  /** Every access token ever issued (to check none leaks). */
  readonly issuedTokens: string[] = [];
  private readonly codes = new Map<string, string>();
  private server!: Server;
  private nextId = 1_000_000;
  /** Catalog history starts a day ago; later changes happen at the real time. */
  private clock = Date.now() - 86_400_000;
  private bucket = 0;
  /** The next N Admin API calls answer 429 with this Retry-After. */
  private rateLimit = { remaining: 0, retryAfter: '1.0', afterCalls: 0 };
  /** The next N product page calls answer 500 (a store outage / a crash mid-import). */
  private pageFailures = { remaining: 0, afterPages: 0 };
  private productPagesServed = 0;
  readonly orders = new Map<number, FakeOrder>();
  private nextOrderNumber = 1001;
  /** Every Admin API call answers 503 (with this Retry-After) while set. */
  private down: { retryAfter?: string } | null = null;
  /** The next N order creations create the order, then drop the connection unanswered. */
  private dropOrderResponses = 0;
  origin = '';

  constructor(opts: FakeShopifyOptions) {
    this.apiKey = opts.apiKey;
    this.apiSecret = opts.apiSecret;
    this.shop = opts.shop ?? 'cool-shop.myshopify.com';
    this.currency = opts.currency ?? 'EUR';
    const variants = opts.variantsPerProduct ?? 3;
    for (let i = 0; i < (opts.products ?? 0); i++)
      this.addProduct({ variants, title: `Product ${i + 1}` });
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: Error) => {
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

  /** A strictly increasing store clock (Shopify's times have one-second precision). */
  tick(): Date {
    this.clock = Math.max(this.clock + 1000, Math.floor(Date.now() / 1000) * 1000);
    return new Date(this.clock);
  }

  addProduct({
    variants = 3,
    title = 'Product',
  }: { variants?: number; title?: string } = {}): FakeProduct {
    const id = this.nextId++;
    const at = shopifyTime(this.tick());
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
      admin_graphql_api_id: `gid://shopify/Product/${id}`,
      variants: [],
      image: { id: id + 7, product_id: id, src: `https://cdn.shopify.com/s/files/${id}.jpg` },
      images: [],
    };
    product.images = product.image ? [product.image] : [];
    for (let v = 0; v < variants; v++) {
      const vid = this.nextId++;
      product.variants.push({
        id: vid,
        product_id: id,
        title: ['Small', 'Medium', 'Large', 'XL'][v % 4],
        price: (10 + v * 2.5).toFixed(2),
        sku: `SKU-${vid}`,
        position: v + 1,
        inventory_policy: 'deny',
        inventory_management: 'shopify',
        inventory_item_id: vid + 500_000_000,
        inventory_quantity: 5 + v,
        old_inventory_quantity: 5 + v,
        created_at: at,
        updated_at: at,
        option1: ['Small', 'Medium', 'Large', 'XL'][v % 4],
        admin_graphql_api_id: `gid://shopify/ProductVariant/${vid}`,
      });
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
    p.updated_at = shopifyTime(this.tick());
    return structuredClone(p);
  }

  deleteProduct(id: number): void {
    this.products.delete(id);
  }

  rateLimitNext(count: number, retryAfter = '1.0', afterCalls = 0): void {
    this.rateLimit = { remaining: count, retryAfter, afterCalls };
  }

  failProductPages(count: number, afterPages = 0): void {
    this.pageFailures = { remaining: count, afterPages: this.productPagesServed + afterPages };
  }

  /** The store goes down (every Admin API call answers 503) or comes back. */
  setDown(down: boolean, retryAfter?: string): void {
    this.down = down ? { retryAfter } : null;
  }

  /** The next `count` order creations succeed in the store but the answer is lost. */
  dropNextOrderResponses(count = 1): void {
    this.dropOrderResponses = count;
  }

  /** Orders carrying this tag. */
  ordersTagged(tag: string): FakeOrder[] {
    return [...this.orders.values()].filter((o) => splitTags(o.tags).includes(tag));
  }

  /** The merchant marks an order paid (as an orders/paid webhook would report it). */
  markOrderPaid(id: number): FakeOrder {
    const o = this.orders.get(id);
    if (!o) throw new Error(`no order ${id}`);
    o.financial_status = 'paid';
    o.updated_at = shopifyTime(this.tick());
    return structuredClone(o);
  }

  revokeAllTokens(): void {
    this.tokens.clear();
  }

  /** What Shopify's consent screen does once the merchant approves: a signed redirect. */
  signedCallbackQuery(
    params: { state: string; shop?: string; code?: string; timestamp?: number },
    secret = this.apiSecret,
  ): URLSearchParams {
    const code = params.code ?? randomBytes(16).toString('hex');
    const q = new URLSearchParams({
      code,
      host: Buffer.from(
        `admin.shopify.com/store/${(params.shop ?? this.shop).split('.')[0]}`,
      ).toString('base64'),
      shop: params.shop ?? this.shop,
      state: params.state,
      timestamp: String(params.timestamp ?? Math.floor(Date.now() / 1000)),
    });
    const message = new URLSearchParams(
      [...q.entries()].sort(([a], [b]) => (a < b ? -1 : 1)),
    ).toString();
    q.set('hmac', createHmac('sha256', secret).update(message).digest('hex'));
    this.codes.set(code, params.shop ?? this.shop);
    return q;
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
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'x-shopify-topic': topic,
      'x-shopify-hmac-sha256': createHmac('sha256', opts.secret ?? this.apiSecret)
        .update(body)
        .digest('base64'),
      'x-shopify-shop-domain': opts.shop ?? this.shop,
      'x-shopify-api-version': '2025-10',
      'x-shopify-webhook-id': opts.webhookId ?? randomBytes(16).toString('hex'),
      'x-shopify-triggered-at': opts.triggeredAt ?? new Date().toISOString(),
    };
    if (opts.eventId !== undefined) headers['x-shopify-event-id'] = opts.eventId;
    const res = await fetch(address, { method: 'POST', headers, body });
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

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.origin);
    const query = Object.fromEntries(url.searchParams);
    const record: RequestRecord = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query,
      status: 0,
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
      const q = this.signedCallbackQuery({ state: query.state });
      res.writeHead(302, { location: `${query.redirect_uri}?${q.toString()}` });
      return void res.end();
    }
    if (req.method === 'POST' && url.pathname === '/admin/oauth/access_token') {
      const body = await this.readBody(req);
      if (body.client_id !== this.apiKey || body.client_secret !== this.apiSecret) {
        return this.send(res, 400, { error: 'invalid_client' });
      }
      const code = String(body.code ?? '');
      if (!this.codes.has(code))
        return this.send(res, 400, {
          error: 'invalid_request',
          error_description: 'The authorization code was not found or was already used',
        });
      this.codes.delete(code);
      const token = `shpat_${randomBytes(16).toString('hex')}`;
      this.tokens.add(token);
      this.issuedTokens.push(token);
      return this.send(res, 200, {
        access_token: token,
        scope: 'read_products,read_inventory,write_orders,read_orders',
      });
    }

    const m = /^\/admin\/api\/(\d{4}-\d{2})\/(.+)$/.exec(url.pathname);
    if (!m) return this.send(res, 404, { errors: 'Not Found' });
    const token = req.headers['x-shopify-access-token'];
    if (typeof token !== 'string' || !this.tokens.has(token)) {
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
              'Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service.',
          },
          {
            'retry-after': this.rateLimit.retryAfter,
            'x-shopify-shop-api-call-limit': `${BUCKET_SIZE}/${BUCKET_SIZE}`,
          },
        );
      }
    }
    this.bucket = Math.min(BUCKET_SIZE - 1, this.bucket + 1);
    setTimeout(() => (this.bucket = Math.max(0, this.bucket - 1)), 500).unref();
    const limitHeader = { 'x-shopify-shop-api-call-limit': `${this.bucket}/${BUCKET_SIZE}` };
    const resource = m[2];

    if (req.method === 'GET' && resource === 'shop.json') {
      return this.send(
        res,
        200,
        {
          shop: { id: 1, name: 'Cool Shop', myshopify_domain: this.shop, currency: this.currency },
        },
        limitHeader,
      );
    }
    if (req.method === 'GET' && resource === 'products/count.json') {
      const min = query.updated_at_min ? Date.parse(query.updated_at_min) : null;
      const count = [...this.products.values()].filter(
        (p) => min === null || Date.parse(p.updated_at) >= min,
      ).length;
      return this.send(res, 200, { count }, limitHeader);
    }
    if (req.method === 'GET' && resource === 'products.json') {
      if (
        this.pageFailures.remaining > 0 &&
        this.productPagesServed >= this.pageFailures.afterPages
      ) {
        this.pageFailures.remaining--;
        return this.send(res, 500, { errors: 'Internal Server Error' });
      }
      const limit = Math.min(Number(query.limit ?? 50), MAX_LIMIT);
      let after = 0;
      let min: number | null = query.updated_at_min ? Date.parse(query.updated_at_min) : null;
      if (query.page_info) {
        // With page_info Shopify refuses other filters: they live in the cursor.
        if (Object.keys(query).some((k) => k !== 'page_info' && k !== 'limit' && k !== 'fields')) {
          return this.send(res, 400, { errors: 'page_info - Invalid value' }, limitHeader);
        }
        const c = JSON.parse(Buffer.from(query.page_info, 'base64url').toString()) as {
          after: number;
          min: number | null;
        };
        after = c.after;
        min = c.min;
      }
      const page = [...this.products.values()]
        .filter((p) => p.id > after && (min === null || Date.parse(p.updated_at) >= min))
        .sort((a, b) => a.id - b.id)
        .slice(0, limit + 1);
      const more = page.length > limit;
      const items = page.slice(0, limit);
      this.productPagesServed++;
      const headers: Record<string, string> = { ...limitHeader };
      if (more) {
        const pageInfo = Buffer.from(
          JSON.stringify({ after: items[items.length - 1].id, min }),
        ).toString('base64url');
        headers.link = `<${this.origin}/admin/api/${m[1]}/products.json?limit=${limit}&page_info=${pageInfo}>; rel="next"`;
      }
      const body = query.fields === 'id' ? items.map((p) => ({ id: p.id })) : items;
      return this.send(res, 200, { products: body }, headers);
    }
    if (req.method === 'POST' && resource === 'webhooks.json') {
      const body = (await this.readBody(req)).webhook as { topic: string; address: string };
      if (
        [...this.webhooks.values()].some(
          (w) => w.topic === body.topic && w.address === body.address,
        )
      ) {
        return this.send(
          res,
          422,
          { errors: { address: ['for this topic has already been taken'] } },
          limitHeader,
        );
      }
      const id = this.nextId++;
      const hook = {
        id,
        topic: body.topic,
        address: body.address,
        format: 'json',
        api_version: m[1],
      };
      this.webhooks.set(id, hook);
      return this.send(res, 201, { webhook: hook }, limitHeader);
    }
    if (req.method === 'GET' && resource === 'webhooks.json') {
      return this.send(res, 200, { webhooks: [...this.webhooks.values()] }, limitHeader);
    }
    if (req.method === 'POST' && resource === 'orders.json') {
      return this.createOrder(req, res, limitHeader);
    }
    if (req.method === 'POST' && resource === 'graphql.json') {
      return this.graphql(req, res, limitHeader);
    }
    const del = /^webhooks\/(\d+)\.json$/.exec(resource);
    if (req.method === 'DELETE' && del) {
      if (!this.webhooks.delete(Number(del[1])))
        return this.send(res, 404, { errors: 'Not Found' }, limitHeader);
      return this.send(res, 200, {}, limitHeader);
    }
    return this.send(res, 404, { errors: 'Not Found' }, limitHeader);
  }

  /** POST orders.json: Shopify's order resource in, `201 {order}` out; 422 when it cannot sell. */
  private async createOrder(
    req: IncomingMessage,
    res: ServerResponse,
    limitHeader: Record<string, string>,
  ): Promise<void> {
    const body = (await this.readBody(req)).order as Record<string, unknown> | undefined;
    if (!body || typeof body !== 'object') {
      return this.send(res, 400, { errors: { order: 'Required parameter missing or invalid' } });
    }
    const items = Array.isArray(body.line_items)
      ? (body.line_items as Array<{ variant_id?: unknown; quantity?: unknown }>)
      : [];
    if (items.length === 0) {
      return this.send(res, 422, { errors: { line_items: ["can't be blank"] } }, limitHeader);
    }
    const variants = [...this.products.values()].flatMap((p) => p.variants);
    const lines: FakeOrderLineItem[] = [];
    const errors: string[] = [];
    for (const item of items) {
      const v = variants.find((x) => x.id === Number(item.variant_id));
      const quantity = Number(item.quantity);
      if (!v) {
        errors.push(`Variant ${String(item.variant_id)} does not exist`);
        continue;
      }
      if (!Number.isInteger(quantity) || quantity < 1) {
        errors.push('Quantity must be greater than or equal to 1');
        continue;
      }
      const obey = body.inventory_behaviour === 'decrement_obeying_policy';
      if (
        obey &&
        v.inventory_management === 'shopify' &&
        v.inventory_policy === 'deny' &&
        v.inventory_quantity < quantity
      ) {
        errors.push(
          `${this.products.get(v.product_id)?.title ?? 'Product'} - ${v.title} is out of stock`,
        );
        continue;
      }
      lines.push({
        id: this.nextId++,
        variant_id: v.id,
        product_id: v.product_id,
        title: this.products.get(v.product_id)?.title ?? '',
        variant_title: v.title,
        sku: v.sku,
        quantity,
        price: v.price,
      });
    }
    if (errors.length) return this.send(res, 422, { errors: { line_items: errors } }, limitHeader);
    const decrement =
      body.inventory_behaviour === 'decrement_obeying_policy' ||
      body.inventory_behaviour === 'decrement_ignoring_policy';
    if (decrement) {
      for (const l of lines) {
        const v = variants.find((x) => x.id === l.variant_id)!;
        v.old_inventory_quantity = v.inventory_quantity;
        v.inventory_quantity -= l.quantity;
      }
    }
    const id = this.nextId++;
    const at = shopifyTime(this.tick());
    const cents = lines.reduce((n, l) => n + Math.round(Number(l.price) * 100) * l.quantity, 0);
    const total = (cents / 100).toFixed(2);
    const number = this.nextOrderNumber++;
    const order: FakeOrder = {
      id,
      admin_graphql_api_id: `gid://shopify/Order/${id}`,
      name: `#${number}`,
      order_number: number,
      email: String(body.email ?? ''),
      currency: typeof body.currency === 'string' ? body.currency : this.currency,
      total_price: total,
      subtotal_price: total,
      financial_status: typeof body.financial_status === 'string' ? body.financial_status : 'paid',
      fulfillment_status: null,
      cancelled_at: null,
      tags: splitTags(typeof body.tags === 'string' ? body.tags : '').join(', '),
      note: typeof body.note === 'string' ? body.note : null,
      note_attributes: Array.isArray(body.note_attributes)
        ? (body.note_attributes as Array<{ name: string; value: string }>)
        : [],
      source_identifier: typeof body.source_identifier === 'string' ? body.source_identifier : null,
      line_items: lines,
      customer: (body.customer as Record<string, unknown>) ?? null,
      shipping_address: (body.shipping_address as Record<string, unknown>) ?? null,
      created_at: at,
      updated_at: at,
    };
    this.orders.set(id, order);
    if (this.dropOrderResponses > 0) {
      // Created in the store, but the caller never hears about it.
      this.dropOrderResponses--;
      req.socket.destroy();
      return;
    }
    return this.send(res, 201, { order }, limitHeader);
  }

  /** POST graphql.json: only the orders search by tag is spoken here. */
  private async graphql(
    req: IncomingMessage,
    res: ServerResponse,
    limitHeader: Record<string, string>,
  ): Promise<void> {
    const body = (await this.readBody(req)) as {
      query?: string;
      variables?: { query?: string };
    };
    const cost = {
      requestedQueryCost: 12,
      actualQueryCost: 3,
      throttleStatus: { maximumAvailable: 2000, currentlyAvailable: 1997, restoreRate: 100 },
    };
    if (typeof body.query !== 'string' || !/\borders\s*\(/.test(body.query)) {
      return this.send(res, 200, {
        errors: [{ message: 'unsupported by the fake store', extensions: { code: 'UNSUPPORTED' } }],
      });
    }
    const q = body.variables?.query ?? '';
    const m = /^tag:(?:'([^']*)'|"([^"]*)"|(\S+))$/.exec(q.trim());
    if (!m) {
      return this.send(res, 200, { errors: [{ message: `unsupported search "${q}"` }] });
    }
    const tag = (m[1] ?? m[2] ?? m[3]).toLowerCase();
    const edges = [...this.orders.values()]
      .filter((o) => splitTags(o.tags).some((t) => t.toLowerCase() === tag))
      .slice(0, 5)
      .map((o) => ({
        node: {
          id: o.admin_graphql_api_id,
          legacyResourceId: String(o.id),
          tags: splitTags(o.tags),
        },
      }));
    return this.send(res, 200, { data: { orders: { edges } }, extensions: { cost } }, limitHeader);
  }
}

function splitTags(tags: string): string[] {
  return tags
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
}

export async function startFakeShopify(opts: FakeShopifyOptions): Promise<FakeShopify> {
  return new FakeShopify(opts).start();
}
