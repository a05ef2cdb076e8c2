import { getQueueToken } from '@nestjs/bullmq';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { Queue } from 'bullmq';
import type { DataSource } from 'typeorm';
import { QueueName } from '../../src/queues/queue-registry';
import type { BuyerRecord } from '../../src/shopping/orders/buyer-record';
import { OrderBuyerData } from '../../src/shopping/orders/order-buyer-data.service';
import { FakeShopify, FakeShopifyOptions, startFakeShopify } from './fake-shopify';
import { newPartnerClient } from './partner-client';
import { freePort, waitFor } from './processes';
import { TcpProxy } from './tcp-proxy';
import { createPartner, startTestApp, TestApp } from './test-app';

/**
 * Commerce helpers for every test layer and the benches: the local Shopify-like store
 * with the app credentials the apps under test get, the install, waiting for the import
 * and for inbound events, and reads of what the app wrote (outbox events, products,
 * orders).
 */

export const SHOPIFY_KEY = 'test-shopify-client-id';
export const SHOPIFY_SECRET = 'shpss_test_app_secret_0123456789abcdef';

/** The local Shopify-like store, with the app's credentials (SHOPIFY_KEY / SHOPIFY_SECRET). */
export function startLocalShopify(
  opts: Omit<FakeShopifyOptions, 'apiKey' | 'apiSecret'> = {},
): Promise<FakeShopify> {
  return startFakeShopify({ apiKey: SHOPIFY_KEY, apiSecret: SHOPIFY_SECRET, ...opts });
}

/**
 * What points an app at the local store: where the store and browsers reach the app (the
 * OAuth callback and webhook address derive from it), the app's credentials, the store's
 * API origin.
 */
export function shopifyEnv(publicBaseUrl: string, storeOrigin: string): Record<string, string> {
  return {
    PUBLIC_BASE_URL: publicBaseUrl,
    SHOPIFY_API_KEY: SHOPIFY_KEY,
    SHOPIFY_API_SECRET: SHOPIFY_SECRET,
    SHOPIFY_API_ORIGIN: storeOrigin,
  };
}

export interface CommerceFixture {
  t: TestApp;
  /** The app's own database (each test app has one). */
  db: DataSource;
  fake: FakeShopify;
  partner: { id: string; apiKey: string };
  brandId: string;
  baseUrl: string;
  auth: { authorization: string };
  /** With `storeProxy: true`: the TCP proxy the app reaches the store through (cut it to take the store away). */
  storeProxy: TcpProxy | null;
  close(): Promise<void>;
}

/** The app (own DB + queue prefix) wired to a local Shopify-like store, a partner and a brand. */
export async function startCommerce(
  opts: {
    products?: number;
    variantsPerProduct?: number;
    env?: Record<string, string>;
    /** Reach the store through a TcpProxy the test can cut and restore. */
    storeProxy?: boolean;
    locations?: FakeShopifyOptions['locations'];
  } = {},
): Promise<CommerceFixture> {
  const fake = await startLocalShopify({
    products: opts.products ?? 0,
    variantsPerProduct: opts.variantsPerProduct,
    locations: opts.locations,
  });
  const storeProxy = opts.storeProxy
    ? await new TcpProxy('127.0.0.1', Number(new URL(fake.origin).port)).start()
    : null;
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const t = await startTestApp({
    PORT: String(port),
    ...shopifyEnv(baseUrl, storeProxy ? `http://127.0.0.1:${storeProxy.port}` : fake.origin),
    ...opts.env,
  });
  const partner = await createPartner(t);
  const auth = { authorization: `Bearer ${partner.apiKey}` };
  const brand = await t
    .http()
    .post('/v1/brands')
    .set(auth)
    .send({ name: 'Cool Brand' })
    .expect(201);
  return {
    t,
    db: t.app.get<DataSource>(getDataSourceToken()),
    fake,
    partner,
    brandId: brand.body.id as string,
    baseUrl,
    auth,
    storeProxy,
    async close() {
      await t.close();
      await storeProxy?.close();
      await fake.close();
    },
  };
}

/** The store's consent screen, answered yes: where it redirects the browser (our callback). */
export async function consentRedirect(authorizeUrl: string): Promise<string> {
  const consent = await fetch(authorizeUrl, { redirect: 'manual' });
  const callback = consent.headers.get('location');
  if (consent.status !== 302 || !callback) throw new Error(`consent answered ${consent.status}`);
  return callback;
}

export interface Linked {
  connectionId: string;
  authorizeUrl: string;
  finalLocation: string;
}

/** The whole install: create → the store's consent redirect → our callback → returnUrl. */
export async function linkStore(
  f: CommerceFixture,
  returnUrl = `${f.baseUrl}/done`,
): Promise<Linked> {
  const created = await f.t
    .http()
    .post(`/v1/brands/${f.brandId}/store-connections`)
    .set(f.auth)
    .send({ provider: 'shopify', shop: f.fake.shop, returnUrl })
    .expect(201);
  const authorizeUrl = created.body.authorizeUrl as string;
  const done = await fetch(await consentRedirect(authorizeUrl), { redirect: 'manual' });
  const finalLocation =
    done.headers.get('location') ?? `(status ${done.status}: ${await done.text()})`;
  return { connectionId: created.body.id as string, authorizeUrl, finalLocation };
}

/**
 * The install of another shop of the same store (its own catalog and tokens), for a brand
 * of its own: the consent is answered for that shop (Shopify's redirect names it).
 */
export async function linkOtherShop(f: CommerceFixture, shop: string): Promise<Linked> {
  const brand = await f.t.http().post('/v1/brands').set(f.auth).send({ name: shop }).expect(201);
  const created = await f.t
    .http()
    .post(`/v1/brands/${brand.body.id as string}/store-connections`)
    .set(f.auth)
    .send({ provider: 'shopify', shop, returnUrl: `${f.baseUrl}/done` })
    .expect(201);
  const authorizeUrl = created.body.authorizeUrl as string;
  const state = new URL(authorizeUrl).searchParams.get('state')!;
  const q = f.fake.signedCallbackQuery({ state, shop });
  const done = await fetch(`${f.baseUrl}/oauth/shopify/callback?${q.toString()}`, {
    redirect: 'manual',
  });
  return {
    connectionId: created.body.id as string,
    authorizeUrl,
    finalLocation: done.headers.get('location') ?? `(status ${done.status})`,
  };
}

export interface PendingInstall {
  apiKey: string;
  connectionId: string;
  /** Our OAuth callback, as the store's consent redirected to it: fetch it to finish. */
  callback: string;
}

/**
 * For an app in another process (benches, e2e): a partner, a brand and a store connection
 * whose consent is given; the callback is left to the caller (to time what follows it).
 */
export async function startStoreInstall(base: string, shop: string): Promise<PendingInstall> {
  const partner = await newPartnerClient(base, 'bench');
  const brand = await partner.json('POST', '/v1/brands', { name: 'bench' });
  const conn = await partner.json('POST', `/v1/brands/${String(brand.id)}/store-connections`, {
    provider: 'shopify',
    shop,
    returnUrl: `${base}/done`,
  });
  return {
    apiKey: partner.apiKey,
    connectionId: String(conn.id),
    callback: await consentRedirect(String(conn.authorizeUrl)),
  };
}

interface SyncedConnection {
  sync: { state: string; imported: number; total: number | null; lastSyncedAt: string | null };
}

/** Reads a connection until its import has finished (idle, with a last sync time). */
function untilImported(
  read: () => Promise<SyncedConnection>,
  { timeoutMs, intervalMs }: { timeoutMs: number; intervalMs: number },
): Promise<SyncedConnection> {
  return waitFor(
    async () => {
      const c = await read();
      return c.sync.state === 'idle' && c.sync.lastSyncedAt ? c : null;
    },
    { timeoutMs, intervalMs, what: 'the catalog import' },
  );
}

export function waitForImport(f: CommerceFixture, connectionId: string, timeoutMs = 60_000) {
  return untilImported(
    async () =>
      (await f.t.http().get(`/v1/store-connections/${connectionId}`).set(f.auth))
        .body as SyncedConnection,
    { timeoutMs, intervalMs: 100 },
  );
}

/** The same for an app in another process, over real HTTP. */
export function waitForImportOverHttp(
  base: string,
  apiKey: string,
  connectionId: string,
  { timeoutMs = 60_000, intervalMs = 100 } = {},
): Promise<SyncedConnection> {
  return untilImported(
    async () => {
      const r = await fetch(`${base}/v1/store-connections/${connectionId}`, {
        headers: { authorization: `Bearer ${apiKey}` },
      });
      return (await r.json()) as SyncedConnection;
    },
    { timeoutMs, intervalMs },
  );
}

/** Waits until every recorded inbound event has been applied (or set aside). */
export async function waitForInboundApplied(f: CommerceFixture, timeoutMs = 30_000): Promise<void> {
  await waitFor(
    async () => {
      const [{ n }] = await f.db.query(
        `SELECT count(*)::int AS n FROM inbound_events WHERE applied_at IS NULL`,
      );
      return n === 0;
    },
    { timeoutMs, intervalMs: 50, what: 'inbound events to be applied' },
  );
}

/** Waits until no catalog import or reconciliation waits or runs (delayed schedules aside). */
export async function waitForCatalogSyncIdle(f: CommerceFixture): Promise<void> {
  const sync = f.t.app.get<Queue>(getQueueToken(QueueName.CatalogSync));
  await waitFor(async () => (await sync.getActiveCount()) + (await sync.getWaitingCount()) === 0, {
    what: 'catalog-sync queue idle',
  });
}

/**
 * The outbox rows of one event type, oldest first (`type`, `partner_id`, `data`); with
 * `orderId`, only that order's events.
 */
export function outboxEvents(f: CommerceFixture, type: string, opts: { orderId?: string } = {}) {
  return opts.orderId === undefined
    ? f.db.query(
        `SELECT type, partner_id, data FROM outbox_events WHERE type = $1 ORDER BY created_at`,
        [type],
      )
    : f.db.query(
        `SELECT type, partner_id, data FROM outbox_events
          WHERE type = $1 AND data->>'orderId' = $2 ORDER BY created_at`,
        [type, opts.orderId],
      );
}

/** The stored product row (deleted ones too) of a store product id. */
export async function productByExternalId(f: CommerceFixture, externalId: string | number) {
  const [row] = await f.db.query(`SELECT * FROM products WHERE external_id = $1`, [
    String(externalId),
  ]);
  return row as { id: string; title: string; deleted_at: Date | null } | undefined;
}

/**
 * An order row written straight to the database, for states the API cannot produce: an
 * order still pending on our side that the store already knows, or one whose placement job
 * was lost. Unset columns take their defaults (no line items, total 0, no currency or
 * customer); a `customer` is sealed by the app (OrderBuyerData), as the API would. Returns its id.
 */
export async function insertOrderRow(
  f: Pick<CommerceFixture, 'db' | 't' | 'partner' | 'brandId'>,
  row: {
    connectionId: string;
    externalId: string;
    status: string;
    storeOrderId?: string;
    lineItems?: unknown[];
    totalPrice?: string;
    currency?: string | null;
    customer?: BuyerRecord;
    createdSecondsAgo?: number;
    /** For a final status: how long ago the order reached it. */
    finalSecondsAgo?: number;
    partnerId?: string;
    brandId?: string;
  },
): Promise<string> {
  const [inserted] = await f.db.query(
    `INSERT INTO orders (partner_id, brand_id, store_connection_id, external_id, status, store_order_id,
                         line_items, total_price, currency, created_at, final_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, now() - make_interval(secs => $10),
             CASE WHEN $11::float8 IS NULL THEN NULL ELSE now() - make_interval(secs => $11::float8) END)
     RETURNING id`,
    [
      row.partnerId ?? f.partner.id,
      row.brandId ?? f.brandId,
      row.connectionId,
      row.externalId,
      row.status,
      row.storeOrderId ?? null,
      JSON.stringify(row.lineItems ?? []),
      row.totalPrice ?? '0',
      row.currency ?? null,
      row.createdSecondsAgo ?? 0,
      row.finalSecondsAgo ?? null,
    ],
  );
  const id = inserted.id as string;
  if (row.customer) await f.t.app.get(OrderBuyerData).store(f.db.manager, id, row.customer);
  return id;
}

/** GET /v1/orders/:id, which must answer 200. */
export async function getOrder(f: CommerceFixture, id: string): Promise<Record<string, unknown>> {
  return (await f.t.http().get(`/v1/orders/${id}`).set(f.auth).expect(200)).body;
}

/** Waits until an order leaves `pending` (placed or failed); returns it as the API shows it. */
export function waitForOrderSettled(
  f: CommerceFixture,
  id: string,
  { timeoutMs = 30_000, intervalMs = 100 } = {},
): Promise<Record<string, unknown>> {
  return waitFor(
    async () => {
      const o = await getOrder(f, id);
      return o.status !== 'pending' ? o : null;
    },
    { timeoutMs, intervalMs, what: `order ${id} to leave pending` },
  );
}

/** Waits until `attempts` placement attempts of a still pending order have failed. */
export function waitForFailedAttempts(
  f: CommerceFixture,
  id: string,
  attempts: number,
  timeoutMs = 40_000,
): Promise<boolean> {
  return waitFor(
    async () => {
      const [row] = await f.db.query(`SELECT status, attempts FROM orders WHERE id = $1`, [id]);
      return row.status === 'pending' && row.attempts >= attempts;
    },
    { timeoutMs, intervalMs: 200, what: `${attempts} failed attempts` },
  );
}
