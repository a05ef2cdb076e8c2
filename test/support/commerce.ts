import { freePort, waitFor } from './processes';
import { FakeShopify, startFakeShopify } from './fake-shopify';
import { TcpProxy } from './tcp-proxy';
import { createPartner, startTestApp, TestApp } from './test-app';

export const SHOPIFY_KEY = 'test-shopify-client-id';
export const SHOPIFY_SECRET = 'shpss_test_app_secret_0123456789abcdef';

export interface CommerceFixture {
  t: TestApp;
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
  } = {},
): Promise<CommerceFixture> {
  const fake = await startFakeShopify({
    apiKey: SHOPIFY_KEY,
    apiSecret: SHOPIFY_SECRET,
    products: opts.products ?? 0,
    variantsPerProduct: opts.variantsPerProduct,
  });
  const storeProxy = opts.storeProxy
    ? await new TcpProxy('127.0.0.1', Number(new URL(fake.origin).port)).start()
    : null;
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const t = await startTestApp({
    PORT: String(port),
    PUBLIC_BASE_URL: baseUrl,
    SHOPIFY_API_KEY: SHOPIFY_KEY,
    SHOPIFY_API_SECRET: SHOPIFY_SECRET,
    SHOPIFY_API_ORIGIN: storeProxy ? `http://127.0.0.1:${storeProxy.port}` : fake.origin,
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
  const consent = await fetch(authorizeUrl, { redirect: 'manual' });
  const callback = consent.headers.get('location');
  if (consent.status !== 302 || !callback) throw new Error(`consent answered ${consent.status}`);
  const done = await fetch(callback, { redirect: 'manual' });
  const finalLocation =
    done.headers.get('location') ?? `(status ${done.status}: ${await done.text()})`;
  return { connectionId: created.body.id as string, authorizeUrl, finalLocation };
}

export async function waitForImport(f: CommerceFixture, connectionId: string, timeoutMs = 60_000) {
  return waitFor(
    async () => {
      const res = await f.t.http().get(`/v1/store-connections/${connectionId}`).set(f.auth);
      const c = res.body as { sync: { state: string; lastSyncedAt: string | null } };
      return c.sync.state === 'idle' && c.sync.lastSyncedAt ? c : null;
    },
    { timeoutMs, intervalMs: 100, what: 'the catalog import' },
  );
}

/** Waits until every recorded inbound event has been applied (or set aside). */
export async function waitForInboundApplied(f: CommerceFixture, timeoutMs = 30_000): Promise<void> {
  const { getDataSourceToken } = await import('@nestjs/typeorm');
  const db = f.t.app.get<import('typeorm').DataSource>(getDataSourceToken());
  await waitFor(
    async () => {
      const [{ n }] = await db.query(
        `SELECT count(*)::int AS n FROM inbound_events WHERE applied_at IS NULL`,
      );
      return n === 0;
    },
    { timeoutMs, intervalMs: 50, what: 'inbound events to be applied' },
  );
}
