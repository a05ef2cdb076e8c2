import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { getQueueToken } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import Redis from 'ioredis';
import { SecretBox } from '../../src/common/secret-box';
import { KeyRotationService, MissingEncryptionKeyError } from '../../src/keys/key-rotation.service';
import { PrivacyRequestsService } from '../../src/privacy/privacy-requests.service';
import { QueueName } from '../../src/queues/queue-registry';
import type { BuyerRecord } from '../../src/shopping/orders/buyer-record';
import { OrderBuyerData } from '../../src/shopping/orders/order-buyer-data.service';
import { OrderStatusService } from '../../src/shopping/orders/order-status.service';
import {
  CommerceFixture,
  getOrder,
  insertOrderRow,
  linkStore,
  startCommerce,
  waitForImport,
  waitForOrderSettled,
} from '../support/commerce';
import { waitFor } from '../support/processes';
import { createPartner } from '../support/test-app';
import { REDIS_URL } from '../support/test-env';
import { WebhookReceiver } from '../support/webhook-receiver';

const run = promisify(execFile);

/** The whole database as `pg_dump` writes it (schema and data). */
async function pgDump(databaseUrl: string): Promise<string> {
  const { stdout } = await run('pg_dump', ['--no-owner', databaseUrl], {
    maxBuffer: 256 * 1024 * 1024,
  });
  return stdout;
}

/** Every personal value of a buyer, as a dump or a log could spell it. */
function needles(b: BuyerRecord): string[] {
  const out = [b.email, b.email.toLowerCase(), b.name, b.phone];
  for (const a of [b.shippingAddress, b.billingAddress]) {
    if (a) out.push(a.address1, a.city, a.zip, a.phone, a.firstName, a.lastName);
  }
  return out.filter((v): v is string => typeof v === 'string' && v.length > 0);
}

function expectNone(haystack: string, b: BuyerRecord, where: string): void {
  const lower = haystack.toLowerCase();
  for (const n of needles(b)) {
    if (lower.includes(n.toLowerCase())) throw new Error(`${where} holds the buyer's "${n}"`);
  }
}

/** Every key and value of a test's BullMQ prefix (job payloads, results, errors). */
async function redisDump(prefix: string): Promise<string> {
  const redis = new Redis(REDIS_URL);
  try {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      keys.push(...found);
    } while (cursor !== '0');
    const parts: string[] = [];
    for (const k of keys) {
      const type = await redis.type(k);
      if (type === 'hash') parts.push(k, JSON.stringify(await redis.hgetall(k)));
      else if (type === 'string') parts.push(k, (await redis.get(k)) ?? '');
      else if (type === 'list') parts.push(k, JSON.stringify(await redis.lrange(k, 0, -1)));
      else if (type === 'zset') parts.push(k, JSON.stringify(await redis.zrange(k, 0, -1)));
      else if (type === 'set') parts.push(k, JSON.stringify(await redis.smembers(k)));
      else if (type === 'stream') parts.push(k, JSON.stringify(await redis.xrange(k, '-', '+')));
    }
    return parts.join('\n');
  } finally {
    redis.disconnect();
  }
}

const ADA: BuyerRecord = {
  email: 'Ada.Privacy@Example.org',
  name: 'Ada Quixotic',
  phone: '+44 20 7946 0321',
  shippingAddress: {
    firstName: 'Adalind',
    lastName: 'Quixotic',
    address1: '17 Zanzibar Mews',
    city: 'Wolverhampton',
    zip: 'WV1 4QZ',
    country: 'GB',
    phone: '+44 20 7946 0999',
  },
  billingAddress: { address1: '4 Yarrowby Terrace', city: 'Kidderminster', country: 'GB' },
};

/**
 * Buyers' privacy on real Postgres and Redis, in-process: sealed at rest (pg_dump, job
 * payloads), export and erase per buyer scoped to the partner, privacy.buyer_erased to every
 * partner that held the buyer (verified with the official standardwebhooks library), the
 * Shopify entry points (customers/redact, shop/redact), retention, key rotation.
 */
describe("buyers' privacy", () => {
  let f: CommerceFixture;
  let connectionId: string;
  let variantId: string;
  let receiverA: WebhookReceiver;
  let receiverC: WebhookReceiver;
  /** Another partner with an order of the same email, in another shop. */
  let b: { id: string; apiKey: string; brandId: string; connectionId: string };
  /** A partner whose brand was linked to the same shop before (a revoked connection). */
  let c: { id: string; apiKey: string; brandId: string; connectionId: string };
  let seq = 0;

  async function otherPartner(name: string, shop: string, status: string) {
    const p = await createPartner(f.t, name);
    const brand = await f.t
      .http()
      .post('/v1/brands')
      .set({ authorization: `Bearer ${p.apiKey}` })
      .send({ name: `${name} brand` })
      .expect(201);
    const [conn] = await f.db.query(
      `INSERT INTO store_connections (partner_id, brand_id, provider, shop, status, return_url)
       VALUES ($1, $2, 'shopify', $3, $4, 'http://127.0.0.1/done') RETURNING id`,
      [p.id, brand.body.id, shop, status],
    );
    return { ...p, brandId: brand.body.id as string, connectionId: conn.id as string };
  }

  async function endpointFor(apiKey: string, receiver: WebhookReceiver): Promise<void> {
    const res = await f.t
      .http()
      .post('/v1/webhook-endpoints')
      .set({ authorization: `Bearer ${apiKey}` })
      .send({ url: receiver.url, events: ['privacy.buyer_erased'] })
      .expect(201);
    receiver.trust(res.body.secret as string);
  }

  beforeAll(async () => {
    f = await startCommerce({ products: 2, env: { BUYER_DATA_RETENTION: '2s' } });
    for (const p of f.fake.products.values())
      for (const v of p.variants) v.inventory_quantity = 500;
    connectionId = (await linkStore(f)).connectionId;
    await waitForImport(f, connectionId);
    [{ id: variantId }] = await f.db.query(`SELECT id FROM variants ORDER BY external_id LIMIT 1`);
    b = await otherPartner('Other partner', 'another-shop.myshopify.com', 'linked');
    c = await otherPartner('Earlier partner', f.fake.shop, 'revoked');
    receiverA = await WebhookReceiver.start();
    receiverC = await WebhookReceiver.start();
    await endpointFor(f.partner.apiKey, receiverA);
    await endpointFor(c.apiKey, receiverC);
  }, 120_000);
  afterAll(async () => {
    await f?.close();
    await receiverA?.close();
    await receiverC?.close();
  });

  const privacy = (body: unknown, auth = f.auth) =>
    f.t
      .http()
      .post('/v1/privacy/requests')
      .set(auth)
      .send(body as object);

  async function placeOrder(buyer: BuyerRecord): Promise<string> {
    const res = await f.t
      .http()
      .post('/v1/orders')
      .set(f.auth)
      .send({
        externalId: `privacy-${++seq}`,
        brandId: f.brandId,
        lineItems: [{ variantId, quantity: 1 }],
        customer: buyer,
      })
      .expect(202);
    const settled = await waitForOrderSettled(f, res.body.id as string);
    expect(settled.status).toBe('placed');
    return res.body.id as string;
  }

  const sealedOf = async (orderId: string) =>
    (
      await f.db.query(
        `SELECT customer_sealed, customer_key_id, customer_email_index, customer_erased_at, final_at
           FROM orders WHERE id = $1`,
        [orderId],
      )
    )[0];

  it('seals every buyer field: the store gets them, pg_dump, job payloads and events do not', async () => {
    const id = await placeOrder(ADA);
    // The store was given the buyer in clear (unsealed just for the call).
    const storeOrder = f.fake.ordersTagged(`cb-${id}`)[0] as unknown as Record<string, unknown>;
    expect(JSON.stringify(storeOrder).toLowerCase()).toContain(ADA.email.toLowerCase());
    const row = await sealedOf(id);
    expect(row.customer_sealed).toEqual(expect.any(String));
    expect(row.customer_key_id).toBe(f.t.config.encryptionKeys[0].id);
    expect(row.customer_email_index).toHaveLength(32);
    expectNone(await pgDump(f.t.config.databaseUrl), ADA, 'pg_dump');
    expectNone(await redisDump(f.t.config.queuePrefix), ADA, 'Redis (job payloads)');
    const order = await getOrder(f, id);
    expectNone(JSON.stringify(order), ADA, 'GET /v1/orders/:id');
    expect(order).not.toHaveProperty('customer');
  });

  it('export returns every field per order, for any spelling of the email; only the partner’s own', async () => {
    const second = await placeOrder({ email: 'ada.privacy@example.org', name: 'Ada Q.' });
    await insertOrderRow(f, {
      partnerId: b.id,
      brandId: b.brandId,
      connectionId: b.connectionId,
      externalId: 'b-1',
      status: 'placed',
      customer: { ...ADA, name: 'Ada at B' },
    });
    const res = await privacy({ kind: 'export', email: '  ADA.PRIVACY@example.ORG' }).expect(202);
    expect(res.body).toMatchObject({
      kind: 'export',
      source: 'api',
      status: 'completed',
      ordersFound: 2,
      partnersNotified: [],
      completedAt: expect.any(String),
    });
    const orders = res.body.data.orders as Array<Record<string, any>>; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(orders).toHaveLength(2);
    expect(orders[0].customer).toEqual({
      email: ADA.email,
      name: ADA.name,
      phone: ADA.phone,
      shippingAddress: { ...ADA.shippingAddress, address2: null, province: null },
      billingAddress: {
        ...ADA.billingAddress,
        firstName: null,
        lastName: null,
        address2: null,
        province: null,
        zip: null,
        phone: null,
      },
    });
    expect(orders[1]).toMatchObject({ orderId: second, customer: { name: 'Ada Q.' } });
    expect(orders.map((o) => o.customer.name)).not.toContain('Ada at B');
    // Read again later; another partner cannot see it.
    const again = await f.t
      .http()
      .get(`/v1/privacy/requests/${res.body.id}`)
      .set(f.auth)
      .expect(200);
    expect(again.body.data.orders).toHaveLength(2);
    await f.t
      .http()
      .get(`/v1/privacy/requests/${res.body.id}`)
      .set({ authorization: `Bearer ${b.apiKey}` })
      .expect(404);
    // The export result is sealed too.
    expectNone(await pgDump(f.t.config.databaseUrl), ADA, 'pg_dump after an export');
  });

  it('refuses a bad request naming the field, and changes nothing', async () => {
    const before = await f.db.query(`SELECT count(*)::int AS n FROM privacy_requests`);
    const bad = await privacy({ kind: 'delete', email: 'a@b.co' }).expect(400);
    expect(JSON.stringify(bad.body.details)).toContain('kind');
    const noEmail = await privacy({ kind: 'erase', email: 'not an email' }).expect(400);
    expect(JSON.stringify(noEmail.body.details)).toContain('email');
    expect(JSON.stringify(noEmail.body)).not.toContain('not an email');
    await privacy({ kind: 'erase', email: 'a@b.co' }, { authorization: 'Bearer nope' }).expect(401);
    await f.t.http().get('/v1/privacy/requests/not-a-uuid').set(f.auth).expect(404);
    expect(await f.db.query(`SELECT count(*)::int AS n FROM privacy_requests`)).toEqual(before);
  });

  it('erase removes the buyer (pg_dump shows nothing), keeps the orders, tells the partner; another partner untouched', async () => {
    const exportBefore = await privacy({ kind: 'export', email: ADA.email }).expect(202);
    const ids: string[] = exportBefore.body.data.orders.map((o: { orderId: string }) => o.orderId);
    const orderBefore = await getOrder(f, ids[0]);

    const res = await privacy({ kind: 'erase', email: ADA.email }).expect(202);
    expect(res.body).toMatchObject({
      kind: 'erase',
      status: 'completed',
      ordersFound: 2,
      partnersNotified: [f.partner.id],
    });
    expect(res.body).not.toHaveProperty('data');
    for (const id of ids) {
      expect(await sealedOf(id)).toMatchObject({
        customer_sealed: null,
        customer_key_id: null,
        customer_email_index: null,
        customer_erased_at: expect.any(Date),
      });
    }
    // The order still reads, unchanged.
    const orderAfter = await getOrder(f, ids[0]);
    expect({ ...orderAfter, updatedAt: null }).toEqual({ ...orderBefore, updatedAt: null });

    const dump = await pgDump(f.t.config.databaseUrl);
    expectNone(dump, ADA, 'pg_dump after the erasure');
    // The earlier export's result went with the data.
    const oldExport = await f.t
      .http()
      .get(`/v1/privacy/requests/${exportBefore.body.id}`)
      .set(f.auth)
      .expect(200);
    expect(oldExport.body).not.toHaveProperty('data');
    const none = await privacy({ kind: 'export', email: ADA.email }).expect(202);
    expect(none.body).toMatchObject({ ordersFound: 0, data: { orders: [] } });

    // The same email at another partner is untouched.
    const atB = await privacy(
      { kind: 'export', email: ADA.email },
      { authorization: `Bearer ${b.apiKey}` },
    ).expect(202);
    expect(atB.body.data.orders).toHaveLength(1);
    expect(atB.body.data.orders[0].customer.name).toBe('Ada at B');

    // privacy.buyer_erased, verified with the official library; no personal data in it.
    await receiverA.waitFor(
      (r) => r.accepted.some((w) => w.payload?.data.requestId === res.body.id),
      { what: 'privacy.buyer_erased' },
    );
    const hook = receiverA.accepted.find((w) => w.payload?.data.requestId === res.body.id)!;
    expect(hook.payload).toMatchObject({ type: 'privacy.buyer_erased' });
    expect(hook.payload!.data).toEqual({ requestId: res.body.id, orderIds: ids });
    expectNone(hook.body, ADA, 'the event');
    expect(receiverC.received).toHaveLength(0);

    // The audit row: who, when, how many; never the data.
    const [audit] = await f.db.query(`SELECT * FROM privacy_requests WHERE id = $1`, [res.body.id]);
    expect(audit).toMatchObject({
      partner_id: f.partner.id,
      requested_by: 'partner-api',
      orders_found: 2,
      result_sealed: null,
    });
    expectNone(JSON.stringify(audit), ADA, 'the audit row');
  });

  it('customers/redact (entry point): erases the buyer in every order of that shop and tells each partner', async () => {
    const buyer: BuyerRecord = { email: 'redact.me@example.net', name: 'Rhoda Redact' };
    const mine = await insertOrderRow(f, {
      connectionId,
      externalId: 'shop-a-1',
      status: 'paid',
      customer: buyer,
    });
    const earlier = await insertOrderRow(f, {
      partnerId: c.id,
      brandId: c.brandId,
      connectionId: c.connectionId,
      externalId: 'shop-c-1',
      status: 'fulfilled',
      customer: buyer,
    });
    const elsewhere = await insertOrderRow(f, {
      partnerId: b.id,
      brandId: b.brandId,
      connectionId: b.connectionId,
      externalId: 'b-2',
      status: 'placed',
      customer: buyer,
    });
    const service = f.t.app.get(PrivacyRequestsService);
    // customers/data_request: the partner of the connection sees its own orders only.
    const exported = await service.requestForStoreCustomer({
      storeConnectionId: connectionId,
      kind: 'export',
      email: buyer.email,
    });
    expect(exported).toMatchObject({ source: 'shopify', status: 'completed', ordersFound: 1 });
    expect(exported.data!.orders.map((o) => o.orderId)).toEqual([mine]);

    const req = await service.requestForStoreCustomer({
      storeConnectionId: connectionId,
      kind: 'erase',
      email: 'REDACT.me@example.net',
    });
    expect(req).toMatchObject({
      kind: 'erase',
      source: 'shopify',
      status: 'completed',
      ordersFound: 2,
    });
    expect(new Set(req.partnersNotified)).toEqual(new Set([f.partner.id, c.id]));
    expect((await sealedOf(mine)).customer_sealed).toBeNull();
    expect((await sealedOf(earlier)).customer_sealed).toBeNull();
    expect((await sealedOf(elsewhere)).customer_sealed).not.toBeNull();
    // The partner of the connection reads it like its own requests.
    const read = await f.t.http().get(`/v1/privacy/requests/${req.id}`).set(f.auth).expect(200);
    expect(read.body).toMatchObject({ id: req.id, source: 'shopify' });

    for (const [receiver, orderIds] of [
      [receiverA, [mine]],
      [receiverC, [earlier]],
    ] as const) {
      await receiver.waitFor((r) => r.accepted.some((w) => w.payload?.data.requestId === req.id), {
        what: 'privacy.buyer_erased after customers/redact',
      });
      const hook = receiver.accepted.find((w) => w.payload?.data.requestId === req.id)!;
      expect(hook.payload!.data).toEqual({ requestId: req.id, orderIds });
      expectNone(hook.body, buyer, 'the event');
    }
    expectNone(
      await pgDump(f.t.config.databaseUrl),
      { ...buyer, email: 'x@x.x', name: 'Rhoda' },
      'pg_dump',
    );
  });

  it('shop/redact (entry point): erases every buyer of that shop, not of other shops', async () => {
    const keep = await insertOrderRow(f, {
      partnerId: b.id,
      brandId: b.brandId,
      connectionId: b.connectionId,
      externalId: 'b-3',
      status: 'placed',
      customer: { email: 'keep@example.net' },
    });
    const gone = await insertOrderRow(f, {
      connectionId,
      externalId: 'shop-a-2',
      status: 'placed',
      customer: { email: 'gone@example.net', name: 'Gwendolyn Gone' },
    });
    const req = await f.t.app.get(PrivacyRequestsService).redactStore(connectionId);
    expect(req).toMatchObject({ kind: 'erase', source: 'shopify', status: 'completed' });
    expect(req.ordersFound).toBeGreaterThanOrEqual(1);
    expect((await sealedOf(gone)).customer_sealed).toBeNull();
    expect((await sealedOf(keep)).customer_sealed).not.toBeNull();
    const [{ n }] = await f.db.query(
      `SELECT count(*)::int AS n FROM orders o JOIN store_connections c ON c.id = o.store_connection_id
        WHERE c.shop = $1 AND o.customer_sealed IS NOT NULL`,
      [f.fake.shop],
    );
    expect(n).toBe(0);
    // Again: nothing left, nothing told.
    expect(await f.t.app.get(PrivacyRequestsService).redactStore(connectionId)).toMatchObject({
      ordersFound: 0,
      partnersNotified: [],
    });
  });

  it('retention (BUYER_DATA_RETENTION=2s, the scheduled job): a fulfilled order loses its buyer, a pending one keeps it', async () => {
    const schedulers = await f.t.app
      .get<Queue>(getQueueToken(QueueName.Privacy))
      .getJobSchedulers();
    expect(schedulers.map((s) => s.key ?? s.id)).toEqual(
      expect.arrayContaining(['buyer-data-retention', 'keys-rotate']),
    );
    const buyer: BuyerRecord = { email: 'retained@example.net', name: 'Rita Retained' };
    const pending = await insertOrderRow(f, {
      connectionId,
      externalId: 'ret-pending',
      status: 'pending',
      customer: buyer,
      createdSecondsAgo: 3600,
    });
    const placed = await insertOrderRow(f, {
      connectionId,
      externalId: 'ret-fulfilled',
      status: 'placed',
      storeOrderId: '990001',
      customer: buyer,
    });
    // The store says it was fulfilled: the final state's time is recorded.
    const applied = await f.db.transaction((m) =>
      f.t.app
        .get(OrderStatusService)
        .applyStoreStatus(
          m,
          { id: connectionId, partnerId: f.partner.id },
          '990001',
          'fulfilled',
          new Date(),
        ),
    );
    expect(applied).toBe('updated');
    expect((await sealedOf(placed)).final_at).toEqual(expect.any(Date));
    await waitFor(async () => (await sealedOf(placed)).customer_sealed === null, {
      timeoutMs: 30_000,
      what: 'the retention job to erase the fulfilled order',
    });
    expect(await sealedOf(pending)).toMatchObject({
      customer_sealed: expect.any(String),
      final_at: null,
    });
    expect((await getOrder(f, placed)).status).toBe('fulfilled');
    // Idempotent: run again, nothing left to do.
    expect(await f.t.app.get(OrderBuyerData).eraseExpired(2000)).toEqual({ erased: 0, batches: 0 });
  });

  it('rotation: k1 → "k2,k1" re-seals every column (batched, resumable); k1 reported unused; "k2" alone reads all', async () => {
    const current = f.t.config.encryptionKeys[0];
    const k2 = { id: 'k2', key: randomBytes(32) };
    const both = new SecretBox([k2, current]);
    const rotation = new KeyRotationService(f.db, both);
    const before = await rotation.countByKey();
    const columns = new Set(before.map((c) => c.column));
    for (const col of [
      'orders.customer_sealed',
      'webhook_endpoints.secret_sealed',
      'store_connections.access_token_sealed',
    ]) {
      expect(columns).toContain(col);
    }
    // Stopped after its first batch…
    const stop = new AbortController();
    await expect(
      rotation.rotate({ batch: 1, signal: stop.signal, onBatch: () => stop.abort() }),
    ).rejects.toThrow();
    const midway = await rotation.countByKey();
    expect(midway.some((c) => c.keyId === 'k2')).toBe(true);
    expect(midway.some((c) => c.keyId === current.id)).toBe(true);
    // …and resumed.
    const report = await rotation.rotate({ batch: 2 });
    expect(report.remaining.every((c) => c.keyId === 'k2')).toBe(true);
    expect(report.skipped).toBe(0);

    // k2 alone opens everything, and finds buyers by the re-computed blind index.
    const alone = new SecretBox([k2]);
    await expect(new KeyRotationService(f.db, alone).assertKeysPresent()).resolves.toBeDefined();
    const orders = await f.db.query(
      `SELECT id, customer_sealed, customer_key_id FROM orders WHERE customer_sealed IS NOT NULL`,
    );
    expect(orders.length).toBeGreaterThan(0);
    const { openBuyer, buyerEmailIndexes } = await import('../../src/shopping/orders/buyer-record');
    for (const o of orders) {
      const buyer = openBuyer(alone, o.id, { keyId: o.customer_key_id, sealed: o.customer_sealed });
      const [{ n }] = await f.db.query(
        `SELECT count(*)::int AS n FROM orders WHERE id = $1 AND customer_email_index = ANY($2::bytea[])`,
        [o.id, buyerEmailIndexes(alone, buyer.email)],
      );
      expect(n).toBe(1);
    }
    // A key a row needs, missing: a clear error naming it.
    const err = await new KeyRotationService(
      f.db,
      new SecretBox([{ id: 'k3', key: randomBytes(32) }]),
    )
      .assertKeysPresent()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MissingEncryptionKeyError);
    expect((err as Error).message).toContain('"k2"');
    // Back to the app's own key, so that it closes cleanly.
    await new KeyRotationService(f.db, new SecretBox([current, k2])).rotate();
  });
});
