import { request as httpRequest } from 'node:http';
import { DataSource } from 'typeorm';
import { StoreConnection } from '../../src/stores/store-connection.entity';
import { StoreCredentials } from '../../src/stores/store-credentials.service';
import { StoreProviders } from '../../src/stores/store-providers';
import { StoreTokens } from '../../src/stores/store-tokens.service';
import { shopifyTime } from '../support/fake-shopify';
import { waitFor } from '../support/processes';
import { WebhookReceiver } from '../support/webhook-receiver';
import {
  insertOrderRow,
  CommerceFixture,
  linkOtherShop,
  linkStore,
  productByExternalId,
  startCommerce,
  waitForImport,
  waitForInboundApplied,
} from '../support/commerce';

const SHOP_B = 'other-shop.myshopify.com';

/**
 * Shopify as it is today (issue #16): stock per location, expiring tokens refreshed once
 * across workers, needs_relink only when the refresh is refused, the mandatory compliance
 * webhooks, and the headers Shopify does not sign.
 */
describe('Shopify today: locations, expiring tokens, compliance webhooks, header trust', () => {
  let f: CommerceFixture;
  let db: DataSource;
  let connA: string;
  let connB: string;
  let url: string;

  beforeAll(async () => {
    f = await startCommerce({
      products: 4,
      locations: [
        { name: 'Shop', fulfillsOnlineOrders: true },
        { name: 'Outlet', fulfillsOnlineOrders: true },
        { name: 'Warehouse (not online)', fulfillsOnlineOrders: false },
      ],
      // The fallback: a short poll, for the shop whose bulk webhooks are lost.
      env: { SHOPIFY_BULK_POLL_INTERVAL: '300ms' },
    });
    db = f.db;
    const [loc1, loc2, wh] = f.fake.shopData().locations;
    const [p0] = [...f.fake.products.values()];
    const item = p0.variants[0].inventory_item_id;
    f.fake.shopData().setLevel(item, loc1.id, 3);
    f.fake.shopData().setLevel(item, loc2.id, 4);
    f.fake.shopData().setLevel(item, wh.id, 100);
    connA = (await linkStore(f)).connectionId;
    await waitForImport(f, connA);
    // Shop B: its bulk_operations/finish webhooks never arrive; polling finds the end.
    const b = f.fake.addShop(SHOP_B);
    b.addProduct({ title: 'B product', variants: 1 });
    f.fake.bulkWebhooks = false;
    connB = (await linkOtherShop(f, SHOP_B)).connectionId;
    await waitForImport(f, connB);
    f.fake.bulkWebhooks = true;
    url = `${f.baseUrl}/webhooks/shopify`;
  });
  afterAll(() => f.close());

  const variantStock = async (externalVariantId: number) =>
    (
      await db.query(`SELECT inventory_quantity FROM variants WHERE external_id = $1`, [
        String(externalVariantId),
      ])
    )[0].inventory_quantity as number;

  it("imports stock per location; sellable stock counts only the locations that sell online; a level's webhook changes its location only", async () => {
    const [loc1, loc2, wh] = f.fake.shopData().locations;
    const [p0] = [...f.fake.products.values()];
    const v = p0.variants[0];
    const levels = await db.query(
      `SELECT location_id, available FROM inventory_levels WHERE inventory_item_id = $1 ORDER BY location_id`,
      [String(v.inventory_item_id)],
    );
    expect(levels).toEqual(
      [loc1, loc2, wh]
        .map((l, i) => ({ location_id: String(l.id), available: [3, 4, 100][i] }))
        .sort((a, b) => a.location_id.localeCompare(b.location_id)),
    );
    expect(await variantStock(v.id)).toBe(7);
    const api = await f.t
      .http()
      .get(`/v1/products/${(await productByExternalId(f, p0.id))!.id}`)
      .set(f.auth)
      .expect(200);
    expect(api.body.variants[0]).toMatchObject({ inventoryQuantity: 7, available: true });

    // The outlet sells out: only its level changes.
    const payload = f.fake.shopData().setLevel(v.inventory_item_id, loc2.id, 0);
    expect((await f.fake.sendWebhook(url, 'inventory_levels/update', payload)).status).toBe(200);
    await waitForInboundApplied(f);
    expect(await variantStock(v.id)).toBe(3);
    const [wl] = await db.query(
      `SELECT available FROM inventory_levels WHERE inventory_item_id = $1 AND location_id = $2`,
      [String(v.inventory_item_id), String(wh.id)],
    );
    expect(wl.available).toBe(100);
    // A product update (whose variant total counts every location) does not undo it.
    const changed = f.fake.updateProduct(p0.id, { title: 'Renamed' });
    expect((await f.fake.sendWebhook(url, 'products/update', changed)).status).toBe(200);
    await waitForInboundApplied(f);
    expect(await variantStock(v.id)).toBe(3);
  });

  it('finds the end of a bulk operation by polling when its webhook never comes', async () => {
    const c = await f.t.http().get(`/v1/store-connections/${connB}`).set(f.auth).expect(200);
    expect(c.body.sync).toMatchObject({ state: 'idle', imported: 1, total: 1 });
    const polls = f.fake.requests.filter((r) => r.shop === SHOP_B && r.fields.includes('node'));
    expect(polls.length).toBeGreaterThanOrEqual(2);
  });

  it("keeps tokens per shop: shop A's token does not work at shop B", async () => {
    const tokenA = [...f.fake.tokens.entries()].find(([, t]) => t.shop === f.fake.shop)![0];
    // Shopify tells shops apart by the Host (fetch cannot set it: plain http).
    const ask = (host: string) =>
      new Promise<number>((resolve, reject) => {
        const body = JSON.stringify({ query: '{ shop { currencyCode } }' });
        const req = httpRequest(
          `${f.fake.origin}/admin/api/2026-10/graphql.json`,
          {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-shopify-access-token': tokenA, host },
          },
          (r) => {
            r.resume();
            resolve(r.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    expect(await ask(f.fake.shop)).toBe(200);
    const res = { status: await ask(SHOP_B) };
    expect(res.status).toBe(401);
  });

  it('two workers needing a refresh at the same moment make one refresh; both get the new token', async () => {
    f.fake.expireAccessTokens();
    const before = f.fake.refreshes.get(f.fake.shop) ?? 0;
    const conn = await db.getRepository(StoreConnection).findOneByOrFail({ id: connA });
    // Two StoreTokens as two processes would have them (nothing shared but Postgres).
    const mk = () =>
      new StoreTokens(db, f.t.app.get(StoreCredentials), f.t.app.get(StoreProviders));
    const [w1, w2] = [mk(), mk()];
    const provider = f.t.app.get(StoreProviders).get('shopify');
    const [a, b] = await Promise.all([
      w1.withToken(conn, (ctx) => provider.shopInfo(ctx).then(() => ctx.accessToken)),
      w2.withToken(conn, (ctx) => provider.shopInfo(ctx).then(() => ctx.accessToken)),
    ]);
    expect(f.fake.refreshes.get(f.fake.shop)).toBe(before + 1);
    expect(a).toBe(b);
    expect(w1.refreshes + w2.refreshes).toBe(1);
    // Stored sealed, with the rotated refresh token; neither token in clear.
    const [row] = await db.query(
      `SELECT access_token_sealed, refresh_token_sealed, refresh_token_key_id, access_token_expires_at
         FROM store_connections WHERE id = $1`,
      [connA],
    );
    expect(row.refresh_token_key_id).toBeTruthy();
    expect(row.access_token_expires_at.getTime()).toBeGreaterThan(Date.now());
    for (const t of f.fake.issuedTokens) {
      expect(row.access_token_sealed).not.toContain(t);
      expect(row.refresh_token_sealed).not.toContain(t);
    }
  });

  it('an expired token whose refresh works leaves the connection linked; a refused refresh → needs_relink', async () => {
    f.fake.expireAccessTokens();
    await f.t.http().post(`/v1/store-connections/${connB}/sync`).set(f.auth).expect(202);
    await waitFor(async () => (f.fake.refreshes.get(SHOP_B) ?? 0) >= 1, { what: 'B refreshed' });
    await waitFor(
      async () => {
        const c = await f.t.http().get(`/v1/store-connections/${connB}`).set(f.auth);
        return c.body.sync.lastSyncedAt !== null && c.body.status === 'linked' ? c : null;
      },
      { what: 'B reconciled' },
    );
    f.fake.expireAccessTokens();
    f.fake.refuseRefresh = true;
    try {
      await f.t.http().post(`/v1/store-connections/${connB}/sync`).set(f.auth).expect(202);
      const c = await waitFor(
        async () => {
          const r = await f.t.http().get(`/v1/store-connections/${connB}`).set(f.auth);
          return r.body.status === 'needs_relink' ? r.body : null;
        },
        { what: 'needs_relink' },
      );
      expect(c.sync.lastError).toMatch(/refresh refused/);
    } finally {
      f.fake.refuseRefresh = false;
    }
  });

  describe('compliance webhooks', () => {
    const customer = {
      id: 191167,
      email: 'john@example.com',
      phone: '555-625-1199',
    };
    const bodies = () => ({
      'customers/data_request': {
        shop_id: 954889,
        shop_domain: f.fake.shop,
        orders_requested: [299938, 280263],
        customer,
        data_request: { id: 9999 },
      },
      'customers/redact': {
        shop_id: 954889,
        shop_domain: f.fake.shop,
        customer,
        orders_to_redact: [299938, 280263],
      },
    });

    it('refuses each compliance topic with 401 when the HMAC is wrong; records nothing', async () => {
      for (const topic of ['customers/data_request', 'customers/redact', 'shop/redact']) {
        const res = await f.fake.sendWebhook(
          url,
          topic,
          { shop_id: 1, shop_domain: f.fake.shop },
          { secret: 'not-the-app-secret' },
        );
        expect(res.status).toBe(401);
      }
      const [{ n }] = await db.query(`SELECT count(*)::int AS n FROM compliance_requests`);
      expect(n).toBe(0);
    });

    it('records customers/data_request and customers/redact durably and sealed for the privacy machinery; a body naming another shop is refused', async () => {
      for (const [topic, body] of Object.entries(bodies())) {
        const res = await f.fake.sendWebhook(url, topic, body, { eventId: `evt-${topic}` });
        expect(res.status).toBe(200);
        // A redelivery: one row.
        expect(
          (await f.fake.sendWebhook(url, topic, body, { eventId: `evt-${topic}` })).status,
        ).toBe(200);
      }
      const rows = await db.query(
        `SELECT topic, shop, status, store_connection_id, payload_sealed, payload_key_id, completed_at
           FROM compliance_requests ORDER BY topic`,
      );
      expect(rows.map((r: { topic: string }) => r.topic)).toEqual([
        'customers/data_request',
        'customers/redact',
      ]);
      for (const r of rows) {
        // (The privacy.compliance job may already have completed them: the next test.)
        expect(r).toMatchObject({ shop: f.fake.shop, store_connection_id: connA });
        expect(r.payload_key_id).toBeTruthy();
        const raw = Buffer.from(r.payload_sealed, 'base64').toString('latin1');
        expect(r.payload_sealed + raw).not.toContain('john@example.com');
        expect(r.payload_sealed + raw).not.toContain('555-625-1199');
      }
      const forged = await f.fake.sendWebhook(url, 'customers/redact', {
        ...bodies()['customers/redact'],
        shop_domain: SHOP_B,
      });
      expect(forged.status).toBe(400);
    });

    it("customers/redact erases that buyer in the shop's orders (others untouched) and tells the partner with privacy.buyer_erased", async () => {
      const receiver = await WebhookReceiver.start();
      try {
        const ep = await f.t
          .http()
          .post('/v1/webhook-endpoints')
          .set(f.auth)
          .send({ url: receiver.url, events: ['privacy.buyer_erased'] })
          .expect(201);
        receiver.trust(ep.body.secret as string);
        const jane = { email: 'Jane.Buyer@example.com', name: 'Jane Buyer', phone: '555-0100' };
        const hers = await insertOrderRow(f, {
          connectionId: connA,
          externalId: 'ord-jane',
          status: 'placed',
          customer: jane,
        });
        const other = await insertOrderRow(f, {
          connectionId: connA,
          externalId: 'ord-other',
          status: 'placed',
          customer: { email: 'someone@example.com', name: 'Some One' },
        });
        const res = await f.fake.sendWebhook(
          url,
          'customers/redact',
          {
            shop_id: 954889,
            shop_domain: f.fake.shop,
            customer: { id: 7, email: 'jane.buyer@example.com', phone: '555-0100' },
            orders_to_redact: [],
          },
          { eventId: 'evt-redact-jane' },
        );
        expect(res.status).toBe(200);
        const done = await waitFor(
          async () => {
            const [r] = await db.query(
              `SELECT status, outcome FROM compliance_requests WHERE event_key LIKE '%evt-redact-jane%'`,
            );
            return r?.status === 'completed' ? r : null;
          },
          { what: 'customers/redact completed', timeoutMs: 40_000 },
        );
        expect(done.outcome.privacy).toMatchObject({ kind: 'erase' });
        expect(done.outcome.privacy.requests).toHaveLength(1);
        expect(done.outcome.privacy.requests[0].ordersFound).toBe(1);
        const rows = await db.query(
          `SELECT id, customer_sealed IS NULL AS erased, customer_erased_at IS NOT NULL AS marked
             FROM orders WHERE id = ANY($1::uuid[]) ORDER BY external_id`,
          [[hers, other]],
        );
        expect(rows).toEqual([
          { id: hers, erased: true, marked: true },
          { id: other, erased: false, marked: false },
        ]);
        // Verified with the official Standard Webhooks library by the receiver.
        const erasedEvent = (w: (typeof receiver.accepted)[number]) =>
          w.payload?.type === 'privacy.buyer_erased';
        await receiver.waitFor((r) => r.accepted.some(erasedEvent), {
          what: 'privacy.buyer_erased',
          timeoutMs: 30_000,
        });
        const hook = receiver.accepted.find(erasedEvent)!;
        expect(hook.payload?.data).toEqual({
          requestId: done.outcome.privacy.requests[0].id,
          orderIds: [hers],
        });
        expect(JSON.stringify(hook.payload)).not.toMatch(/jane|555-0100/i);
      } finally {
        await receiver.close();
      }
    });

    it('shop/redact erases the catalog, stock and tokens of the shop and records what it erased', async () => {
      const bConn = connB;
      const before = await db.query(
        `SELECT count(*)::int AS n FROM products WHERE store_connection_id = $1`,
        [bConn],
      );
      expect(before[0].n).toBe(1);
      const res = await f.fake.sendWebhook(
        url,
        'shop/redact',
        { shop_id: 2, shop_domain: SHOP_B },
        { shop: SHOP_B, eventId: 'evt-shop-redact' },
      );
      expect(res.status).toBe(200);
      const done = await waitFor(
        async () => {
          const [r] = await db.query(
            `SELECT outcome, status FROM compliance_requests WHERE topic = 'shop/redact'`,
          );
          return r?.outcome?.catalog ? r : null;
        },
        { what: 'shop/redact' },
      );
      expect(done.outcome.catalog).toMatchObject({
        products: 1,
        variants: 1,
        levels: 1,
        tokensForgotten: true,
      });
      // The orders' part (buyers' data) is the privacy machinery's (privacy.compliance job):
      // then the request is completed.
      const completed = await waitFor(
        async () => {
          const [r] = await db.query(
            `SELECT outcome, status FROM compliance_requests WHERE topic = 'shop/redact'`,
          );
          return r?.status === 'completed' ? r : null;
        },
        { what: 'shop/redact completed', timeoutMs: 40_000 },
      );
      expect(completed.outcome.orders.requests).toHaveLength(1);
      const [counts] = await db.query(
        `SELECT (SELECT count(*)::int FROM products WHERE store_connection_id = $1) AS p,
                (SELECT count(*)::int FROM variants WHERE store_connection_id = $1) AS v,
                (SELECT count(*)::int FROM inventory_levels WHERE store_connection_id = $1) AS l`,
        [bConn],
      );
      expect(counts).toEqual({ p: 0, v: 0, l: 0 });
      const [conn] = await db.query(
        `SELECT status, access_token_sealed, refresh_token_sealed, access_token_key_id, refresh_token_key_id
           FROM store_connections WHERE id = $1`,
        [bConn],
      );
      expect(conn).toEqual({
        status: 'revoked',
        access_token_sealed: null,
        refresh_token_sealed: null,
        access_token_key_id: null,
        refresh_token_key_id: null,
      });
      // Shop A untouched.
      const [{ n }] = await db.query(
        `SELECT count(*)::int AS n FROM products WHERE store_connection_id = $1`,
        [connA],
      );
      expect(n).toBe(4);
    });
  });

  describe('headers Shopify does not sign', () => {
    it("a signed body of shop A replayed with shop B's domain changes nothing at B", async () => {
      // Link B again (shop/redact revoked it) for a fresh catalog there.
      f.fake.shopData(SHOP_B).addProduct({ title: 'B again', variants: 1 });
      connB = (await linkOtherShop(f, SHOP_B)).connectionId;
      await waitForImport(f, connB);
      const [pA] = [...f.fake.products.values()];
      const updated = f.fake.updateProduct(pA.id, { title: 'Replayed at B' });
      const res = await f.fake.sendWebhook(url, 'products/update', updated, {
        shop: SHOP_B,
        eventId: 'evt-replay-b',
      });
      expect(res.status).toBe(200);
      await waitForInboundApplied(f);
      const [{ n }] = await db.query(
        `SELECT count(*)::int AS n FROM products WHERE store_connection_id = $1 AND external_id = $2`,
        [connB, String(pA.id)],
      );
      expect(n).toBe(0);
      const [row] = await db.query(
        `SELECT outcome FROM inbound_events WHERE event_key = 'evt-replay-b'`,
      );
      expect(row.outcome).toMatch(/belongs to another shop/);
      // app/uninstalled of A sent with B's domain revokes nothing.
      const un = await f.fake.sendWebhook(
        url,
        'app/uninstalled',
        { id: 1, myshopify_domain: f.fake.shop, domain: f.fake.shop },
        { shop: SHOP_B, eventId: 'evt-uninstall-replay' },
      );
      expect(un.status).toBe(200);
      await waitForInboundApplied(f);
      const [b] = await db.query(`SELECT status FROM store_connections WHERE id = $1`, [connB]);
      expect(b.status).toBe('linked');
    });

    it('a validly signed webhook naming a shop that is not linked changes nothing', async () => {
      const snapshot = async () =>
        db.query(
          `SELECT (SELECT count(*)::int FROM products) AS p,
                  (SELECT string_agg(title, ',' ORDER BY id) FROM products) AS titles,
                  (SELECT count(*)::int FROM outbox_events) AS e,
                  (SELECT string_agg(status, ',' ORDER BY id) FROM store_connections) AS s`,
        );
      const before = await snapshot();
      const p = f.fake.addProduct({ title: 'Never ours' });
      const res = await f.fake.sendWebhook(url, 'products/create', p, {
        shop: 'stranger.myshopify.com',
        eventId: 'evt-stranger',
      });
      expect(res.status).toBe(200);
      await f.fake.sendWebhook(
        url,
        'app/uninstalled',
        { myshopify_domain: 'stranger.myshopify.com' },
        { shop: 'stranger.myshopify.com', eventId: 'evt-stranger-2' },
      );
      await waitForInboundApplied(f);
      expect(await snapshot()).toEqual(before);
      const [row] = await db.query(
        `SELECT outcome FROM inbound_events WHERE event_key = 'evt-stranger'`,
      );
      expect(row.outcome).toBe('ignored: no linked connection');
    });

    it('a triggered-at in the future is clamped (a delete cannot outrank later changes); an old one is refused as a replay', async () => {
      const [, pA] = [...f.fake.products.values()];
      const del = await f.fake.sendWebhook(
        url,
        'products/delete',
        { id: pA.id },
        { triggeredAt: '2099-01-01T00:00:00Z', eventId: 'evt-future-delete' },
      );
      expect(del.status).toBe(200);
      await waitForInboundApplied(f);
      const [ev] = await db.query(
        `SELECT triggered_at FROM inbound_events WHERE event_key = 'evt-future-delete'`,
      );
      expect(ev.triggered_at.getTime()).toBeLessThanOrEqual(Date.now() + 60_000);
      // The product comes back with a later change: the tombstone did not hold forever
      // (unclamped, it would outrank every change until 2099).
      const back = f.fake.updateProduct(pA.id, { title: 'Back again' });
      back.updated_at = shopifyTime(new Date(Date.now() + 61_000));
      expect((await f.fake.sendWebhook(url, 'products/update', back)).status).toBe(200);
      await waitForInboundApplied(f);
      const row = await productByExternalId(f, pA.id);
      expect(row?.title).toBe('Back again');

      const old = await f.fake.sendWebhook(url, 'products/update', back, {
        triggeredAt: new Date(Date.now() - 25 * 3600_000).toISOString(),
        eventId: 'evt-old-replay',
      });
      expect(old.status).toBe(400);
      expect(JSON.parse(old.body).details ?? JSON.parse(old.body)).toBeTruthy();
      expect(old.body).toContain('x-shopify-triggered-at');
      const [{ n }] = await db.query(
        `SELECT count(*)::int AS n FROM inbound_events WHERE event_key = 'evt-old-replay'`,
      );
      expect(n).toBe(0);
    });
  });
});
