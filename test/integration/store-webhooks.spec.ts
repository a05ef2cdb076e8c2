import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { getDataSourceToken } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { InboundApplier } from '../../src/catalog/inbound-applier.service';
import { InboundEventsService } from '../../src/stores/webhooks/inbound-events.service';
import { FakeProduct, shopifyTime } from '../support/fake-shopify';
import { waitFor } from '../support/processes';
import { startTestApp, TestApp } from '../support/test-app';

const baseUrlOf = (t: TestApp) => `http://127.0.0.1:${(t.server.address() as AddressInfo).port}`;
import {
  CommerceFixture,
  insertOrderRow,
  linkStore,
  outboxEvents,
  productByExternalId,
  SHOPIFY_KEY,
  SHOPIFY_SECRET,
  startCommerce,
  waitForImport,
  waitForInboundApplied,
} from '../support/commerce';

describe('inbound Shopify webhooks: verify, record, apply', () => {
  let f: CommerceFixture;
  let db: DataSource;
  let connectionId: string;
  let url: string;

  beforeAll(async () => {
    f = await startCommerce({ products: 5 });
    db = f.db;
    connectionId = (await linkStore(f)).connectionId;
    await waitForImport(f, connectionId);
    url = `${f.baseUrl}/webhooks/shopify`;
  });
  afterAll(() => f.close());

  const products = () => [...f.fake.products.values()];
  const ok = async (sent: Promise<{ status: number; body: string }>) => {
    const res = await sent;
    expect(res.status).toBe(200);
    return res;
  };
  const inboundCount = async () =>
    (await db.query(`SELECT count(*)::int AS n FROM inbound_events`))[0].n as number;

  it('accepts a signed products/update (row committed before 200), applies it, emits product.updated', async () => {
    const p = f.fake.updateProduct(products()[0].id, { title: 'Renamed shirt' });
    const before = await inboundCount();
    const res = await f.fake.sendWebhook(url, 'products/update', p, { eventId: 'evt-1' });
    expect(res.status).toBe(200);
    expect(await inboundCount()).toBe(before + 1);
    await waitForInboundApplied(f);
    expect((await productByExternalId(f, p.id))!.title).toBe('Renamed shirt');
    const events = await outboxEvents(f, 'product.updated');
    expect(events.at(-1).data).toMatchObject({ externalId: String(p.id), title: 'Renamed shirt' });
    expect(events.at(-1).data.variants).toHaveLength(3);
  });

  it('ignores a duplicate (same X-Shopify-Event-Id, or same webhook id without one): 200, no effect', async () => {
    const p = f.fake.updateProduct(products()[1].id, { title: 'Once' });
    expect(
      (await f.fake.sendWebhook(url, 'products/update', p, { eventId: 'evt-dup' })).status,
    ).toBe(200);
    await waitForInboundApplied(f);
    const n = (await outboxEvents(f, 'product.updated')).length;
    const dup = await f.fake.sendWebhook(url, 'products/update', p, { eventId: 'evt-dup' });
    expect(dup.status).toBe(200);
    expect(JSON.parse(dup.body)).toEqual({ status: 'duplicate' });
    // Fallback key: X-Shopify-Webhook-Id when there is no event id.
    const q = f.fake.updateProduct(products()[1].id, { title: 'Twice' });
    await ok(f.fake.sendWebhook(url, 'products/update', q, { webhookId: 'wh-1' }));
    const dup2 = await f.fake.sendWebhook(url, 'products/update', q, { webhookId: 'wh-1' });
    expect(JSON.parse(dup2.body)).toEqual({ status: 'duplicate' });
    await waitForInboundApplied(f);
    expect((await outboxEvents(f, 'product.updated')).length).toBe(n + 1);
    const [{ c }] = await db.query(
      `SELECT count(*)::int AS c FROM inbound_events WHERE event_key IN ('evt-dup', 'wh-1')`,
    );
    expect(c).toBe(2);
  });

  it('never lets an older update overwrite a newer one (out of order)', async () => {
    const id = products()[2].id;
    const older = f.fake.updateProduct(id, { title: 'Older' });
    const newer = f.fake.updateProduct(id, { title: 'Newer' });
    await ok(f.fake.sendWebhook(url, 'products/update', newer, { eventId: 'evt-new' }));
    await waitForInboundApplied(f);
    const n = (await outboxEvents(f, 'product.updated')).length;
    expect(
      (await f.fake.sendWebhook(url, 'products/update', older, { eventId: 'evt-old' })).status,
    ).toBe(200);
    await waitForInboundApplied(f);
    expect((await productByExternalId(f, id))!.title).toBe('Newer');
    expect((await outboxEvents(f, 'product.updated')).length).toBe(n);
    const [row] = await db.query(`SELECT outcome FROM inbound_events WHERE event_key = 'evt-old'`);
    expect(row.outcome).toBe('stale');
  });

  it('refuses a bad or missing signature with 401 and records nothing', async () => {
    const before = await inboundCount();
    const p = f.fake.updateProduct(products()[3].id, { title: 'Forged' });
    expect((await f.fake.sendWebhook(url, 'products/update', p, { secret: 'wrong' })).status).toBe(
      401,
    );
    // No signature at all.
    const unsigned = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-shopify-topic': 'products/update',
        'x-shopify-shop-domain': f.fake.shop,
        'x-shopify-webhook-id': randomUUID(),
        'x-shopify-triggered-at': new Date().toISOString(),
      },
      body: JSON.stringify(p),
    });
    expect(unsigned.status).toBe(401);
    // Signed body, then changed: the signature is Shopify's real one over the original bytes.
    const signed = Buffer.from(JSON.stringify({ ...p, title: 'Original' }));
    const headers = f.fake.webhookHeaders('products/update', signed);
    const changed = Buffer.from(JSON.stringify(p));
    const res = await fetch(url, { method: 'POST', headers, body: changed });
    expect(res.status).toBe(401);
    // (The same headers with the bytes they sign are accepted: the refusal was the change.)
    const control = await fetch(url, {
      method: 'POST',
      headers: { ...headers, 'x-shopify-webhook-id': randomUUID() },
      body: signed,
    });
    expect(control.status).toBe(200);
    expect(await inboundCount()).toBe(before + 1);
    await waitForInboundApplied(f);
    expect((await productByExternalId(f, p.id))!.title).toBe('Original');
  });

  it('answers 400 for signed but malformed JSON, 404 for an unknown provider; records nothing', async () => {
    const before = await inboundCount();
    const bad = await f.fake.sendWebhook(url, 'products/update', null, {
      rawBody: Buffer.from('{"id": 1,'),
    });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body).error).toBe('VALIDATION_FAILED');
    const nul = await f.fake.sendWebhook(url, 'products/update', null, {
      rawBody: Buffer.from('{"id": 1, "title": "a\\u0000b"}'),
    });
    expect(nul.status).toBe(400);
    const other = await f.fake.sendWebhook(`${f.baseUrl}/webhooks/bigcommerce`, 'products/update', {
      id: 1,
    });
    expect(other.status).toBe(404);
    expect(await inboundCount()).toBe(before);
  });

  it('stores the body as sent (a lone surrogate escape too); an unreadable triggered-at is refused', async () => {
    const sent = '{"id": 1, "name": "\\ud800"}';
    const surrogate = await f.fake.sendWebhook(url, 'shop/update', null, {
      rawBody: Buffer.from(sent),
      eventId: 'evt-surrogate',
    });
    expect(surrogate.status).toBe(200);
    // Without a usable time a replay could not be told from a fresh delivery: 400, nothing kept.
    const far = await f.fake.sendWebhook(
      url,
      'shop/update',
      { id: 2 },
      { eventId: 'evt-far', triggeredAt: '+275760-09-13T00:00:00Z' },
    );
    expect(far.status).toBe(400);
    const rows = await db.query(
      `SELECT event_key, payload, triggered_at FROM inbound_events
        WHERE event_key IN ('evt-surrogate', 'evt-far') ORDER BY event_key`,
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ event_key: 'evt-surrogate', triggered_at: expect.any(Date) });
    // The applier drops the body once applied: read it before that, or not at all.
    if (rows[0].payload !== null) expect(rows[0].payload).toBe(sent);
    await waitForInboundApplied(f);
    const [applied] = await db.query(
      `SELECT outcome, payload FROM inbound_events WHERE event_key = 'evt-surrogate'`,
    );
    expect(applied.outcome).toMatch(/^ignored/);
  });

  it('keeps the exact bytes received until the event is applied', async () => {
    // A worker-less app (api role only): nothing applies the event, so the body stays.
    const t = await startTestApp({
      ROLES: 'api',
      SHOPIFY_API_KEY: SHOPIFY_KEY,
      SHOPIFY_API_SECRET: SHOPIFY_SECRET,
    });
    try {
      const bytes = Buffer.from('{ "id": 7,\n  "title": "Spaced  out", "n": 1.50 }');
      const res = await f.fake.sendWebhook(
        `${baseUrlOf(t)}/webhooks/shopify`,
        'products/update',
        null,
        {
          rawBody: bytes,
          eventId: 'evt-bytes',
        },
      );
      expect(res.status).toBe(200);
      const tdb = t.app.get<DataSource>(getDataSourceToken());
      const [row] = await tdb.query(
        `SELECT payload, applied_at FROM inbound_events WHERE event_key = 'evt-bytes'`,
      );
      expect(row.applied_at).toBeNull();
      expect(row.payload).toBe(bytes.toString('utf8'));
    } finally {
      await t.close();
    }
  });

  it('refuses only the event Postgres refuses, not the others recorded with it', async () => {
    const inbound = f.t.app.get(InboundEventsService);
    const envelope = (eventKey: string, triggeredAt: Date) => ({
      eventKey,
      topic: 'shop/update',
      shop: f.fake.shop,
      triggeredAt,
    });
    // Recorded in one statement (same turn of the event loop): 271822 BC is refused.
    const [bad, good] = await Promise.allSettled([
      inbound.record('shopify', envelope('evt-bad-time', new Date(-8.64e15)), '{}'),
      inbound.record('shopify', envelope('evt-neighbour', new Date()), '{"id":3}'),
    ]);
    expect(bad).toMatchObject({ status: 'rejected', reason: { code: 'VALIDATION_FAILED' } });
    expect(good).toEqual({ status: 'fulfilled', value: 'new' });
    const keys = await db.query(
      `SELECT event_key FROM inbound_events WHERE event_key IN ('evt-bad-time', 'evt-neighbour')`,
    );
    expect(keys).toEqual([{ event_key: 'evt-neighbour' }]);
  });

  it('answers 413 for a body over 1 MB and records nothing', async () => {
    const before = await inboundCount();
    const big = Buffer.from(JSON.stringify({ id: 1, pad: 'x'.repeat(1024 * 1024) }));
    const res = await f.fake.sendWebhook(url, 'products/update', null, { rawBody: big });
    expect(res.status).toBe(413);
    // The same body as a 413 from Express's body parsers on every other route.
    expect(JSON.parse(res.body)).toMatchObject({
      error: 'PAYLOAD_TOO_LARGE',
      message: 'body: request body is too large',
      details: [{ field: 'body', message: 'request body is too large' }],
    });
    expect(await inboundCount()).toBe(before);
  });

  it('is served ahead of Express yet keeps the app conventions: request id, error body, metrics', async () => {
    const p = f.fake.updateProduct(products()[3].id, { title: 'Forged again' });
    const forged = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-request-id': 'req-webhook-1',
        'x-shopify-topic': 'products/update',
        'x-shopify-shop-domain': f.fake.shop,
        'x-shopify-hmac-sha256': 'AAAA',
        'x-shopify-webhook-id': randomUUID(),
      },
      body: JSON.stringify(p),
    });
    expect(forged.status).toBe(401);
    expect(forged.headers.get('x-request-id')).toBe('req-webhook-1');
    expect(await forged.json()).toEqual({
      statusCode: 401,
      error: 'UNAUTHORIZED',
      message: 'webhook signature is missing or wrong',
      details: [],
      requestId: 'req-webhook-1',
    });
    // Only POST is served ahead; anything else reaches Nest, which has no such route.
    await f.t.http().get('/webhooks/shopify').expect(404);
    const metrics = (await f.t.http().get('/metrics').expect(200)).text;
    const count = (line: string) => {
      const m = metrics.split('\n').find((l) => l.startsWith(line + ' '));
      return m ? Number(m.slice(line.length + 1)) : 0;
    };
    expect(
      count('castbridge_inbound_webhooks_total{provider="shopify",outcome="bad_signature"}'),
    ).toBeGreaterThanOrEqual(1);
    // The 413 of the test above is counted too.
    expect(
      count('castbridge_inbound_webhooks_total{provider="shopify",outcome="too_large"}'),
    ).toBeGreaterThanOrEqual(1);
    expect(
      count('castbridge_inbound_webhooks_total{provider="shopify",outcome="accepted"}'),
    ).toBeGreaterThanOrEqual(1);
    expect(
      count(
        'castbridge_http_request_duration_seconds_count{method="POST",route="/webhooks/:provider",status="401"}',
      ),
    ).toBeGreaterThanOrEqual(1);
  });

  it('products/create and products/delete: product.created, product.deleted, gone from the API', async () => {
    const p: FakeProduct = f.fake.addProduct({ title: 'Brand new hat', variants: 2 });
    await ok(f.fake.sendWebhook(url, 'products/create', p));
    await waitForInboundApplied(f);
    const created = await productByExternalId(f, p.id);
    expect(created).toBeDefined();
    expect((await outboxEvents(f, 'product.created')).at(-1).data).toMatchObject({
      externalId: String(p.id),
      title: 'Brand new hat',
    });
    await f.t.http().get(`/v1/products/${created!.id}`).set(f.auth).expect(200);

    f.fake.deleteProduct(p.id);
    await ok(
      f.fake.sendWebhook(
        url,
        'products/delete',
        { id: p.id },
        { triggeredAt: f.fake.tick().toISOString() },
      ),
    );
    await waitForInboundApplied(f);
    expect((await outboxEvents(f, 'product.deleted')).at(-1).data).toMatchObject({
      productId: created!.id,
      externalId: String(p.id),
    });
    await f.t.http().get(`/v1/products/${created!.id}`).set(f.auth).expect(404);
  });

  it('inventory_levels/update sets stock (newer only) and emits inventory.updated', async () => {
    const p = products()[4];
    const v = p.variants[0];
    const at = new Date(Date.now() + 60_000);
    await ok(
      f.fake.sendWebhook(url, 'inventory_levels/update', {
        inventory_item_id: v.inventory_item_id,
        location_id: f.fake.shopData().locations[0].id,
        available: 0,
        updated_at: shopifyTime(at),
      }),
    );
    await ok(
      f.fake.sendWebhook(url, 'inventory_levels/update', {
        inventory_item_id: v.inventory_item_id,
        location_id: f.fake.shopData().locations[0].id,
        available: 99,
        updated_at: shopifyTime(new Date(at.getTime() - 30_000)),
      }),
    );
    await waitForInboundApplied(f);
    const prod = await productByExternalId(f, p.id);
    const api = await f.t.http().get(`/v1/products/${prod!.id}`).set(f.auth).expect(200);
    const variant = api.body.variants.find(
      (x: { externalId: string }) => x.externalId === String(v.id),
    );
    expect(variant).toMatchObject({ inventoryQuantity: 0, available: false, currency: 'EUR' });
    const events = await outboxEvents(f, 'inventory.updated');
    const ours = events.filter(
      (e: { data: { variantId: string } }) => e.data.variantId === variant.id,
    );
    expect(ours).toHaveLength(1);
    expect(ours[0].data).toMatchObject({
      variantId: variant.id,
      inventoryQuantity: 0,
      previousQuantity: 5,
      available: false,
    });
    expect(
      events.filter(
        (e: { data: { inventoryQuantity: number } }) => e.data.inventoryQuantity === 99,
      ),
    ).toHaveLength(0);
  });

  it('orders/create for an order still pending on our side records order.placed', async () => {
    const orderId = await insertOrderRow(f, {
      connectionId,
      externalId: 'partner-order-2',
      status: 'pending',
      storeOrderId: '820982911',
    });
    await ok(
      f.fake.sendWebhook(url, 'orders/create', {
        id: 820982911,
        financial_status: 'pending',
        updated_at: shopifyTime(new Date()),
      }),
    );
    await waitForInboundApplied(f);
    const [row] = await db.query(`SELECT status FROM orders WHERE id = $1`, [orderId]);
    expect(row.status).toBe('placed');
    const placed = await outboxEvents(f, 'order.placed');
    // The same shape as when placement confirms it (orderEventData builds both).
    expect(placed.at(-1).data).toEqual({
      orderId,
      externalId: expect.any(String),
      brandId: expect.any(String),
      sessionId: null,
      storeOrderId: expect.any(String),
      status: 'placed',
      previousStatus: 'pending',
      totalPrice: expect.any(String),
      currency: null, // the test inserts its order row without one
      failureReason: null,
    });
  });

  it('an event that cannot be applied fails alone; the others of its batch apply', async () => {
    const [, good, , bad] = products();
    const broken = structuredClone(f.fake.updateProduct(bad.id, { title: 'Broken' }));
    broken.variants[0].price = '1e15'; // more than numeric(14,2) holds
    const fine = f.fake.updateProduct(good.id, { title: 'Fine' });
    await ok(f.fake.sendWebhook(url, 'products/update', broken, { eventId: 'evt-broken' }));
    await ok(f.fake.sendWebhook(url, 'products/update', fine, { eventId: 'evt-fine' }));
    await waitFor(
      async () => {
        const [row] = await db.query(
          `SELECT attempts FROM inbound_events WHERE event_key = 'evt-broken'`,
        );
        return row.attempts >= 1;
      },
      { what: 'the broken event to be tried' },
    );
    const [fineRow] = await db.query(
      `SELECT outcome, payload FROM inbound_events WHERE event_key = 'evt-fine'`,
    );
    expect(fineRow.outcome).toBe('updated');
    // Applied: the body is not kept (order bodies carry customers' addresses).
    expect(fineRow.payload).toBeNull();
    expect((await productByExternalId(f, good.id))!.title).toBe('Fine');
    const [badRow] = await db.query(
      `SELECT applied_at, last_error, payload FROM inbound_events WHERE event_key = 'evt-broken'`,
    );
    expect(badRow.applied_at).toBeNull();
    // Not applied: its body stays, to be retried (or looked at once set aside).
    expect(JSON.parse(badRow.payload)).toEqual(broken);
    expect(badRow.last_error).toMatch(/numeric/);
    expect((await productByExternalId(f, bad.id))!.title).not.toBe('Broken');
    // Set it aside so later tests see an empty backlog.
    await db.query(
      `UPDATE inbound_events SET applied_at = now(), outcome = 'failed' WHERE event_key = 'evt-broken'`,
    );
  });

  it('matches orders placed by Castbridge by store order id; ignores others; newer status only', async () => {
    const orderId = await insertOrderRow(f, {
      connectionId,
      externalId: 'partner-order-1',
      status: 'placed',
      storeOrderId: '450789469',
    });
    const t0 = Date.now();
    const order1 = (financial: string, at: number, extra: Record<string, unknown> = {}) => ({
      id: 450789469,
      financial_status: financial,
      fulfillment_status: null,
      cancelled_at: null,
      updated_at: shopifyTime(new Date(at)),
      ...extra,
    });
    await ok(f.fake.sendWebhook(url, 'orders/paid', order1('paid', t0 + 2000)));
    await ok(f.fake.sendWebhook(url, 'orders/updated', order1('pending', t0 + 1000))); // older: ignored
    await ok(f.fake.sendWebhook(url, 'orders/create', { ...order1('paid', t0), id: 999 })); // not ours
    await waitForInboundApplied(f);
    let [row] = await db.query(`SELECT status FROM orders WHERE id = $1`, [orderId]);
    expect(row.status).toBe('paid');
    await ok(
      f.fake.sendWebhook(url, 'refunds/create', {
        id: 5,
        order_id: 450789469,
        created_at: shopifyTime(new Date(t0 + 3000)),
      }),
    );
    await waitForInboundApplied(f);
    [row] = await db.query(`SELECT status FROM orders WHERE id = $1`, [orderId]);
    expect(row.status).toBe('refunded');
    const events = await outboxEvents(f, 'order.updated');
    expect(events.map((e: { data: { status: string } }) => e.data.status)).toEqual([
      'paid',
      'refunded',
    ]);
    expect(events[0].data).toMatchObject({
      orderId,
      externalId: 'partner-order-1',
      storeOrderId: '450789469',
      previousStatus: 'placed',
    });
  });

  it('prunes applied events past the dedupe window, never pending ones', async () => {
    // On an app without the applier (api role), so no sweep can apply the pending one first.
    const t = await startTestApp({ ROLES: 'api' });
    try {
      const tdb = t.app.get<DataSource>(getDataSourceToken());
      await tdb.query(
        `INSERT INTO inbound_events (provider, event_key, shop, topic, payload, received_at, applied_at)
         VALUES ('shopify', 'old-applied', 'x.myshopify.com', 't', '{}', now() - interval '8 days', now() - interval '8 days'),
                ('shopify', 'old-pending', 'x.myshopify.com', 't', '{}', now() - interval '8 days', NULL),
                ('shopify', 'new-applied', 'x.myshopify.com', 't', '{}', now() - interval '1 day', now() - interval '1 day')`,
      );
      const { deleted } = await t.app.get(InboundApplier).prune(7);
      expect(deleted).toBe(1);
      const left = await tdb.query(
        `SELECT event_key, applied_at FROM inbound_events ORDER BY event_key`,
      );
      expect(left.map((r: { event_key: string }) => r.event_key)).toEqual([
        'new-applied',
        'old-pending',
      ]);
    } finally {
      await t.close();
    }
  });

  it('serves the catalog with cursor pagination and a title search', async () => {
    const page1 = await f.t
      .http()
      .get(`/v1/brands/${f.brandId}/products?limit=2`)
      .set(f.auth)
      .expect(200);
    expect(page1.body.data).toHaveLength(2);
    expect(page1.body.nextCursor).toBeTruthy();
    const seen = new Set<string>(page1.body.data.map((p: { id: string }) => p.id));
    let cursor = page1.body.nextCursor;
    while (cursor) {
      const next = await f.t
        .http()
        .get(`/v1/brands/${f.brandId}/products`)
        .query({ limit: 2, cursor })
        .set(f.auth)
        .expect(200);
      for (const p of next.body.data) {
        expect(seen.has(p.id)).toBe(false);
        seen.add(p.id);
      }
      cursor = next.body.nextCursor;
    }
    expect(seen.size).toBe(5);
    const found = await f.t
      .http()
      .get(`/v1/brands/${f.brandId}/products`)
      .query({ q: 'renamed' })
      .set(f.auth)
      .expect(200);
    expect(found.body.data.map((p: { title: string }) => p.title)).toEqual(['Renamed shirt']);
    const none = await f.t
      .http()
      .get(`/v1/brands/${f.brandId}/products`)
      .query({ q: '%' })
      .set(f.auth)
      .expect(200);
    expect(none.body.data).toEqual([]);
    await f.t
      .http()
      .get(`/v1/brands/${f.brandId}/products`)
      .query({ cursor: 'garbage' })
      .set(f.auth)
      .expect(400);
  });

  it('a 401 from the store marks the connection needs_relink (and announces it)', async () => {
    f.fake.revokeAllTokens();
    await f.t.http().post(`/v1/store-connections/${connectionId}/sync`).set(f.auth).expect(202);
    const c = await waitFor(
      async () => {
        const r = await f.t.http().get(`/v1/store-connections/${connectionId}`).set(f.auth);
        return r.body.status === 'needs_relink' ? r.body : null;
      },
      { what: 'needs_relink' },
    );
    // The token is refused and so is its refresh: only then needs_relink.
    expect(c.sync.lastError).toContain('refresh refused');
    expect((await outboxEvents(f, 'store_connection.needs_relink')).at(-1).data).toMatchObject({
      storeConnectionId: connectionId,
    });
  });

  it('app/uninstalled revokes the connection and forgets the token', async () => {
    await ok(f.fake.sendWebhook(url, 'app/uninstalled', { id: 1, domain: f.fake.shop }));
    await waitForInboundApplied(f);
    const [row] = await db.query(
      `SELECT status, access_token_sealed FROM store_connections WHERE id = $1`,
      [connectionId],
    );
    expect(row).toEqual({ status: 'revoked', access_token_sealed: null });
  });
});
