import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { JobQueue } from '../../src/queues/job-queue.service';
import { QueueName } from '../../src/queues/queue-registry';
import { OrderPlacementService } from '../../src/shopping/orders/order-placement.service';
import {
  CommerceFixture,
  getOrder as getOrderOf,
  insertOrderRow,
  linkStore,
  outboxEvents,
  startCommerce,
  waitForFailedAttempts,
  waitForImport,
  waitForInboundApplied,
  waitForOrderSettled,
} from '../support/commerce';
import { createPartner } from '../support/test-app';

jest.setTimeout(120_000);

interface VariantRow {
  id: string;
  external_id: string;
  price: string;
  inventory_quantity: number;
}

describe('orders: POST /v1/orders, placement in the store, status from store webhooks', () => {
  let f: CommerceFixture;
  let db: DataSource;
  let connectionId: string;
  let variants: VariantRow[];
  let seq = 0;

  beforeAll(async () => {
    f = await startCommerce({ products: 3, variantsPerProduct: 2 });
    db = f.db;
    // Enough stock in the store for every order of this file (each one decrements it).
    for (const p of f.fake.products.values())
      for (const v of p.variants) v.inventory_quantity = 500;
    connectionId = (await linkStore(f)).connectionId;
    await waitForImport(f, connectionId);
    variants = await db.query(
      `SELECT id, external_id, price::text AS price, inventory_quantity FROM variants ORDER BY external_id::bigint`,
    );
  });
  afterAll(() => f.close());

  const nextExternalId = () => `tiktok-${Date.now()}-${++seq}`;
  const body = (over: Record<string, unknown> = {}) => ({
    externalId: nextExternalId(),
    brandId: f.brandId,
    lineItems: [{ variantId: variants[0].id, quantity: 2 }],
    customer: {
      email: 'ada@example.com',
      name: 'Ada Lovelace',
      shippingAddress: { address1: '1 Main St', city: 'London', zip: 'N1 1AA', country: 'GB' },
    },
    ...over,
  });
  const post = (b: unknown, auth = f.auth) =>
    f.t
      .http()
      .post('/v1/orders')
      .set(auth)
      .send(b as object);
  const getOrder = (id: string) => getOrderOf(f, id);
  const settled = (id: string, timeoutMs = 30_000) => waitForOrderSettled(f, id, { timeoutMs });
  const events = async (type: string, orderId: string) =>
    (await outboxEvents(f, type, { orderId })) as Array<{
      partner_id: string;
      data: Record<string, unknown>;
    }>;
  const orderCount = async () =>
    (await db.query(`SELECT count(*)::int AS n FROM orders`))[0].n as number;
  const storeOrderPosts = () =>
    f.fake.requests.filter((r) => r.fields.includes('orderCreate')).length;

  it('accepts an order (202, priced from the catalog), places it in the store with our tag, emits order.placed', async () => {
    const b = body({
      lineItems: [
        { variantId: variants[0].id, quantity: 2 },
        { variantId: variants[1].id, quantity: 1 },
      ],
    });
    const res = await post(b).expect(202);
    const expectedTotal = (
      (Math.round(Number(variants[0].price) * 100) * 2 +
        Math.round(Number(variants[1].price) * 100)) /
      100
    ).toFixed(2);
    expect(res.body).toMatchObject({
      externalId: b.externalId,
      brandId: f.brandId,
      sessionId: null,
      status: 'pending',
      storeOrderId: null,
      totalPrice: expectedTotal,
      currency: 'EUR',
      failureReason: null,
    });
    expect(res.body.lineItems).toEqual([
      expect.objectContaining({ variantId: variants[0].id, quantity: 2, price: variants[0].price }),
      expect.objectContaining({ variantId: variants[1].id, quantity: 1, price: variants[1].price }),
    ]);
    const id = res.body.id as string;

    const placed = await settled(id);
    expect(Object.keys(placed).sort()).toEqual(
      [
        'id',
        'externalId',
        'brandId',
        'sessionId',
        'status',
        'storeOrderId',
        'lineItems',
        'totalPrice',
        'currency',
        'failureReason',
        'createdAt',
        'updatedAt',
      ].sort(),
    );
    expect(placed.status).toBe('placed');
    const storeOrders = f.fake.ordersTagged(`cb-${id}`);
    expect(storeOrders).toHaveLength(1);
    const so = storeOrders[0];
    expect(placed.storeOrderId).toBe(String(so.id));
    expect(so.tags).toContain('castbridge');
    expect(so.note_attributes).toEqual(
      expect.arrayContaining([
        { name: 'castbridge_order_id', value: id },
        { name: 'partner_order_id', value: b.externalId },
      ]),
    );
    expect(so.email).toBe('ada@example.com');
    expect(so.line_items.map((l) => [String(l.variant_id), l.quantity])).toEqual([
      [variants[0].external_id, 2],
      [variants[1].external_id, 1],
    ]);
    expect(so.shipping_address).toMatchObject({ city: 'London', country_code: 'GB' });

    const placedEvents = await events('order.placed', id);
    expect(placedEvents).toHaveLength(1);
    expect(placedEvents[0].partner_id).toBe(f.partner.id);
    expect(placedEvents[0].data).toEqual({
      orderId: id,
      externalId: b.externalId,
      brandId: f.brandId,
      sessionId: null,
      storeOrderId: String(so.id),
      status: 'placed',
      previousStatus: 'pending',
      totalPrice: expectedTotal,
      currency: 'EUR',
      failureReason: null,
    });

    // The same externalId again: the same order, 200, nothing new in the store.
    const again = await post({
      ...b,
      lineItems: [{ variantId: variants[2].id, quantity: 1 }],
    }).expect(200);
    expect(again.body.id).toBe(id);
    expect(again.body.status).toBe('placed');
    expect(f.fake.ordersTagged(`cb-${id}`)).toHaveLength(1);
  });

  it('refuses invalid bodies with 400 VALIDATION_FAILED naming each field, and writes nothing', async () => {
    const before = await orderCount();
    const cases: Array<[Record<string, unknown>, string]> = [
      [body({ externalId: undefined }), 'externalId'],
      [body({ externalId: '' }), 'externalId'],
      [body({ brandId: 'not-a-uuid' }), 'brandId'],
      [body({ sessionId: 'nope' }), 'sessionId'],
      [body({ lineItems: [] }), 'lineItems'],
      [body({ lineItems: 'x' }), 'lineItems'],
      [body({ lineItems: [{ variantId: variants[0].id, quantity: 0 }] }), 'lineItems[0].quantity'],
      [
        body({ lineItems: [{ variantId: variants[0].id, quantity: 1.5 }] }),
        'lineItems[0].quantity',
      ],
      [
        body({ lineItems: [{ variantId: variants[0].id, quantity: 1001 }] }),
        'lineItems[0].quantity',
      ],
      [
        body({ lineItems: [{ variantId: variants[0].id, quantity: '2' }] }),
        'lineItems[0].quantity',
      ],
      [
        body({
          lineItems: [
            { variantId: variants[0].id, quantity: 1 },
            { variantId: 'x', quantity: 1 },
          ],
        }),
        'lineItems[1].variantId',
      ],
      [
        body({ lineItems: [{ variantId: variants[0].id, quantity: 1, price: '0.01' }] }),
        'lineItems[0].price',
      ],
      [body({ customer: undefined }), 'customer'],
      [body({ customer: { email: 'not-an-email' } }), 'customer.email'],
      [
        body({
          customer: {
            email: 'a@example.com',
            shippingAddress: { address1: 'x', city: 'y', country: 'usa' },
          },
        }),
        'customer.shippingAddress.country',
      ],
      [
        body({
          customer: { email: 'a@example.com', shippingAddress: { city: 'y', country: 'US' } },
        }),
        'customer.shippingAddress.address1',
      ],
      [body({ status: 'placed' }), 'status'],
    ];
    for (const [b, field] of cases) {
      const res = await post(b);
      expect({ field, status: res.status }).toEqual({ field, status: 400 });
      expect(res.body.error).toBe('VALIDATION_FAILED');
      expect(res.body.details.map((d: { field: string }) => d.field)).toContain(field);
    }
    expect(await orderCount()).toBe(before);
  });

  it("refuses another partner's brand and session, variants of another brand; hides other partners' orders", async () => {
    const before = await orderCount();
    const other = await createPartner(f.t, 'Other');
    const otherAuth = { authorization: `Bearer ${other.apiKey}` };
    const otherBrand = await f.t
      .http()
      .post('/v1/brands')
      .set(otherAuth)
      .send({ name: 'Theirs' })
      .expect(201);

    let res = await post(body({ brandId: otherBrand.body.id })).expect(400);
    expect(res.body.details[0].field).toBe('brandId');
    res = await post(body({ brandId: randomUUID() })).expect(400);
    expect(res.body.details[0].field).toBe('brandId');
    res = await post(body({ sessionId: randomUUID() })).expect(400);
    expect(res.body.details[0].field).toBe('sessionId');

    // A second brand of the same partner: the first brand's variants are not its variants.
    const second = await f.t
      .http()
      .post('/v1/brands')
      .set(f.auth)
      .send({ name: 'Second' })
      .expect(201);
    res = await post(body({ brandId: second.body.id })).expect(400);
    expect(res.body.details[0].field).toBe('lineItems[0].variantId');
    res = await post(
      body({
        lineItems: [
          { variantId: variants[0].id, quantity: 1 },
          { variantId: randomUUID(), quantity: 1 },
        ],
      }),
    ).expect(400);
    expect(res.body.details.map((d: { field: string }) => d.field)).toEqual([
      'lineItems[1].variantId',
    ]);
    // The other partner cannot use our brand either.
    res = await post(body(), otherAuth).expect(400);
    expect(res.body.details[0].field).toBe('brandId');
    expect(await orderCount()).toBe(before);

    const mine = await post(body()).expect(202);
    await f.t.http().get(`/v1/orders/${mine.body.id}`).set(otherAuth).expect(404);
    await f.t.http().get(`/v1/orders/not-a-uuid`).set(f.auth).expect(404);
    await f.t.http().get(`/v1/orders/${randomUUID()}`).set(f.auth).expect(404);
    await settled(mine.body.id);
  });

  it("records the partner's session the order came from (kept as null if the session is deleted)", async () => {
    const channel = await f.t
      .http()
      .post('/v1/channels')
      .set(f.auth)
      .send({ name: 'Live shop', brandId: f.brandId })
      .expect(201);
    const [session] = await db.query(
      `INSERT INTO sessions (partner_id, channel_id, status, ingest_node, stream_name, ended_at)
       VALUES ($1, $2, 'ended', 'test', 'test', now()) RETURNING id`,
      [f.partner.id, channel.body.id],
    );
    const res = await post(body({ sessionId: session.id })).expect(202);
    expect(res.body.sessionId).toBe(session.id);
    await settled(res.body.id);
    const [ev] = await events('order.placed', res.body.id);
    expect(ev.data.sessionId).toBe(session.id);
    await db.query(`DELETE FROM sessions WHERE id = $1`, [session.id]);
    expect((await getOrder(res.body.id)).sessionId).toBeNull();
  });

  it('answers 409 naming the line item when stock is short (quantities of one variant add up)', async () => {
    const before = await orderCount();
    const [v] = await db.query(`SELECT inventory_quantity FROM variants WHERE id = $1`, [
      variants[3].id,
    ]);
    const stock = v.inventory_quantity as number;
    let res = await post(
      body({ lineItems: [{ variantId: variants[3].id, quantity: stock + 1 }] }),
    ).expect(409);
    expect(res.body.error).toBe('CONFLICT');
    expect(res.body.details).toEqual([
      {
        field: 'lineItems[0].quantity',
        message: expect.stringContaining(`only ${stock} in stock`),
      },
    ]);
    res = await post(
      body({
        lineItems: [
          { variantId: variants[2].id, quantity: 1 },
          { variantId: variants[3].id, quantity: stock },
          { variantId: variants[3].id, quantity: 1 },
        ],
      }),
    ).expect(409);
    expect(res.body.details.map((d: { field: string }) => d.field)).toEqual([
      'lineItems[1].quantity',
      'lineItems[2].quantity',
    ]);
    expect(await orderCount()).toBe(before);
  });

  it('10 concurrent identical POSTs create one order and one store order', async () => {
    const b = body();
    const posts = f.fake.requests.length;
    const results = await Promise.all(Array.from({ length: 10 }, () => post(b)));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 200, 202]);
    const ids = new Set(results.map((r) => r.body.id as string));
    expect(ids.size).toBe(1);
    const [id] = [...ids];
    const [{ n }] = await db.query(
      `SELECT count(*)::int AS n FROM orders WHERE partner_id = $1 AND external_id = $2`,
      [f.partner.id, b.externalId],
    );
    expect(n).toBe(1);
    expect((await settled(id)).status).toBe('placed');
    expect(f.fake.ordersTagged(`cb-${id}`)).toHaveLength(1);
    const creates = f.fake.requests.slice(posts).filter((r) => r.fields.includes('orderCreate'));
    expect(creates).toHaveLength(1);
  });

  it('waits while the store is down and places the order exactly once when it is back', async () => {
    f.fake.setDown(true);
    let id: string;
    try {
      const res = await post(body()).expect(202);
      id = res.body.id;
      // At least two attempts failed against the down store, and the order still waits.
      await waitForFailedAttempts(f, id, 2);
      expect(f.fake.ordersTagged(`cb-${id}`)).toHaveLength(0);
      expect((await getOrder(id)).status).toBe('pending');
    } finally {
      f.fake.setDown(false);
    }
    const placed = await settled(id, 60_000);
    expect(placed.status).toBe('placed');
    expect(f.fake.ordersTagged(`cb-${id}`)).toHaveLength(1);
    expect(await events('order.placed', id)).toHaveLength(1);
  });

  it('a retry after the store created the order but the answer was lost finds it by tag: one store order', async () => {
    const creates = storeOrderPosts();
    f.fake.dropNextOrderResponses(1);
    const res = await post(body()).expect(202);
    const id = res.body.id as string;
    const placed = await settled(id, 30_000);
    expect(placed.status).toBe('placed');
    const storeOrders = f.fake.ordersTagged(`cb-${id}`);
    expect(storeOrders).toHaveLength(1);
    expect(placed.storeOrderId).toBe(String(storeOrders[0].id));
    // One creation only: the second attempt found the order instead of creating it.
    expect(storeOrderPosts() - creates).toBe(1);
    const [row] = await db.query(`SELECT attempts FROM orders WHERE id = $1`, [id]);
    expect(row.attempts).toBe(2);
  });

  it('the store refusing orderCreate (out of stock there) fails the order with the reason and emits order.failed', async () => {
    // The store sold out without telling us (no webhook): our catalog still shows stock.
    const v = [...f.fake.products.values()]
      .flatMap((p) => p.variants)
      .find((x) => String(x.id) === variants[4].external_id)!;
    v.inventory_quantity = 0;
    const res = await post(
      body({ lineItems: [{ variantId: variants[4].id, quantity: 1 }] }),
    ).expect(202);
    const id = res.body.id as string;
    const failed = await settled(id);
    expect(failed.status).toBe('failed');
    expect(failed.storeOrderId).toBeNull();
    expect(failed.failureReason).toMatch(/orderCreate: order\.lineItems\.0/);
    expect(failed.failureReason).toMatch(/out of stock/);
    const ev = await events('order.failed', id);
    expect(ev).toHaveLength(1);
    expect(ev[0].data).toMatchObject({
      orderId: id,
      status: 'failed',
      failureReason: failed.failureReason,
    });
    expect(f.fake.ordersTagged(`cb-${id}`)).toHaveLength(0);
  });

  it("the store's orders/paid webhook moves a placed order to paid and emits order.updated", async () => {
    const res = await post(
      body({ lineItems: [{ variantId: variants[5].id, quantity: 1 }] }),
    ).expect(202);
    const id = res.body.id as string;
    const placed = await settled(id);
    expect(placed.status).toBe('placed');
    const paid = f.fake.markOrderPaid(Number(placed.storeOrderId));
    const hook = await f.fake.sendWebhook(`${f.baseUrl}/webhooks/shopify`, 'orders/paid', paid);
    expect(hook.status).toBe(200);
    await waitForInboundApplied(f);
    expect((await getOrder(id)).status).toBe('paid');
    const ev = await events('order.updated', id);
    expect(ev).toHaveLength(1);
    expect(ev[0].data).toMatchObject({ orderId: id, status: 'paid', previousStatus: 'placed' });
  });

  it('the sweep enqueues a pending order whose job was lost (crash between commit and enqueue)', async () => {
    const [template] = await db.query(
      `SELECT line_items, total_price, currency FROM orders WHERE status IN ('placed', 'paid') LIMIT 1`,
    );
    const id = await insertOrderRow(f, {
      connectionId,
      externalId: nextExternalId(),
      status: 'pending',
      lineItems: template.line_items,
      totalPrice: template.total_price,
      currency: template.currency,
      customer: { email: 'sweep@example.com', name: 'Swept Buyer' },
      createdSecondsAgo: 60,
    });
    const sweeper = f.t.app.get(OrderPlacementService);
    const { requeued } = await sweeper.sweep();
    expect(requeued).toBe(1);
    expect((await settled(id)).status).toBe('placed');
    expect(f.fake.ordersTagged(`cb-${id}`)).toHaveLength(1);
    expect((await sweeper.sweep()).requeued).toBe(0);
  });

  it('a 401 from the store fails the order and marks the connection needs_relink; no token anywhere', async () => {
    const tokens = [...f.fake.issuedTokens];
    f.fake.revokeAllTokens();
    const res = await post(body()).expect(202);
    const id = res.body.id as string;
    const failed = await settled(id);
    expect(failed.status).toBe('failed');
    expect(failed.failureReason).toMatch(/relink/);
    const [conn] = await db.query(`SELECT status FROM store_connections WHERE id = $1`, [
      connectionId,
    ]);
    expect(conn.status).toBe('needs_relink');
    expect(
      await db.query(`SELECT 1 FROM outbox_events WHERE type = 'store_connection.needs_relink'`),
    ).toHaveLength(1);
    // A new order for a brand whose store needs a relink is refused up front.
    await post(body()).expect(409);

    const everything = JSON.stringify([
      await db.query(`SELECT * FROM orders`),
      await db.query(`SELECT data FROM outbox_events`),
      (await f.t.app.get(JobQueue).queue(QueueName.Orders).getJobs()).map((j) => [
        j.data,
        j.failedReason,
      ]),
    ]);
    for (const t of tokens) expect(everything).not.toContain(t);
  });
});

describe('orders: the network path to the store is cut during placement', () => {
  let f: CommerceFixture;
  let db: DataSource;

  beforeAll(async () => {
    f = await startCommerce({ products: 1, variantsPerProduct: 1, storeProxy: true });
    db = f.db;
    const { connectionId } = await linkStore(f);
    await waitForImport(f, connectionId);
  });
  afterAll(() => f.close());

  it('keeps the order pending while the store is unreachable, then places it exactly once', async () => {
    const [variant] = await db.query(`SELECT id FROM variants LIMIT 1`);
    f.storeProxy!.cut();
    let id: string;
    try {
      const res = await f.t
        .http()
        .post('/v1/orders')
        .set(f.auth)
        .send({
          externalId: 'cut-1',
          brandId: f.brandId,
          lineItems: [{ variantId: variant.id, quantity: 1 }],
          customer: { email: 'grace@example.com' },
        })
        .expect(202);
      id = res.body.id;
      await waitForFailedAttempts(f, id, 2);
      expect(f.fake.orders.size).toBe(0);
    } finally {
      f.storeProxy!.restore();
    }
    const placed = await waitForOrderSettled(f, id, { timeoutMs: 60_000, intervalMs: 200 });
    expect(placed.status).toBe('placed');
    expect(f.fake.ordersTagged(`cb-${id}`)).toHaveLength(1);
    expect(f.fake.orders.size).toBe(1);
  });
});
