import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { SecretBox } from '../../src/common/secret-box';
import { columnName, SEALED_COLUMNS } from '../../src/keys/sealed-columns';
import { SHOPIFY_KEY, SHOPIFY_SECRET } from '../support/commerce';
import { FakeShopify, startFakeShopify } from '../support/fake-shopify';
import { CastbridgeProcess, freePort, ROOT, spawnCastbridge, waitFor } from '../support/processes';
import { dropDatabase, flushQueuePrefix, TEST_ADMIN_TOKEN, testEnv } from '../support/test-env';
import { WebhookReceiver } from '../support/webhook-receiver';

const run = promisify(execFile);
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const key = () => randomBytes(32).toString('base64');
const K1 = `k1:${key()}`;
const K2 = `k2:${key()}`;

const BUYER = {
  email: 'Octavia.Endtoend@Example.com',
  name: 'Octavia Endtoend',
  phone: '+1 415 555 0142',
  shippingAddress: {
    address1: '88 Quillfeather Lane',
    city: 'Poughkeepsie',
    zip: '12601',
    country: 'US',
    phone: '+1 415 555 0199',
  },
  billingAddress: { address1: '9 Vellichor Court', city: 'Schenectady', country: 'US' },
};
const LATER = { email: 'later.buyer@example.com', name: 'Lysander Laterbuyer' };
const NEEDLES = [
  BUYER.email,
  'octavia',
  'endtoend',
  '555 0142',
  '555 0199',
  'quillfeather',
  'poughkeepsie',
  'vellichor',
  'schenectady',
];
const LATER_NEEDLES = ['later.buyer', 'lysander', 'laterbuyer'];

function expectNone(text: string, needles: string[], where: string): void {
  const lower = text.toLowerCase();
  for (const n of needles) {
    if (lower.includes(n.toLowerCase())) throw new Error(`${where} holds the buyer's "${n}"`);
  }
}

/**
 * Buyers' privacy through the built service (real processes, real HTTP, a local store):
 * an order's buyer is never in clear in pg_dump, export returns it, erase removes it (and
 * privacy.buyer_erased arrives, verified with the official standardwebhooks library), a
 * short BUYER_DATA_RETENTION erases a fulfilled order's buyer; then the keys rotate
 * k1 → "k2,k1" (npm run keys:rotate reports k1 unused) → "k2" alone, with every sealed
 * value still readable; starting without a key a row needs fails naming it; and no buyer
 * field appears in any log line of any process.
 */
describe("buyers' privacy through the real process", () => {
  let fake: FakeShopify;
  let receiver: WebhookReceiver;
  let p: CastbridgeProcess | null = null;
  let env: Record<string, string>;
  const logs: string[] = [];
  let apiKey = '';

  async function start(keys: string): Promise<CastbridgeProcess> {
    const proc = await spawnCastbridge({ ...env, ENCRYPTION_KEYS: keys });
    await waitFor(
      async () => {
        if (proc.child.exitCode !== null) throw new Error(`exited: ${proc.output()}`);
        return (await fetch(`${proc.baseUrl}/health/ready`)).status === 200;
      },
      { what: 'ready', timeoutMs: 40_000 },
    );
    return proc;
  }
  async function stop(): Promise<void> {
    if (!p) return;
    await p.stop();
    logs.push(p.output());
    p = null;
  }
  async function call(method: string, path: string, body?: unknown, auth = apiKey) {
    const res = await fetch(`${p!.baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${auth}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      redirect: 'manual',
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : {}) as Json };
  }
  async function pgDump(): Promise<string> {
    const { stdout } = await run('pg_dump', ['--no-owner', env.DATABASE_URL], {
      maxBuffer: 256 * 1024 * 1024,
    });
    return stdout;
  }
  async function sealedRows(): Promise<Array<{ column: string; keyId: string; rows: number }>> {
    // Only this metric's lines (prom-client may print "Nan" for an unsampled lag gauge).
    const text = await (await fetch(`${p!.baseUrl}/metrics`)).text();
    const re =
      /^castbridge_sealed_values\{column="([^"]+)",key_id="([^"]+)",current="(true|false)"\} (\d+)$/gm;
    return [...text.matchAll(re)].map((m) => ({ column: m[1], keyId: m[2], rows: Number(m[4]) }));
  }

  beforeAll(async () => {
    if (!existsSync(resolve(ROOT, 'dist/src/main.js'))) {
      throw new Error('dist/ is missing: the test command builds first (npm test)');
    }
    fake = await startFakeShopify({ apiKey: SHOPIFY_KEY, apiSecret: SHOPIFY_SECRET, products: 2 });
    for (const prod of fake.products.values())
      for (const v of prod.variants) v.inventory_quantity = 100;
    receiver = await WebhookReceiver.start();
    const port = await freePort();
    env = testEnv({
      LOG_LEVEL: 'debug',
      PORT: String(port),
      PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
      SHOPIFY_API_KEY: SHOPIFY_KEY,
      SHOPIFY_API_SECRET: SHOPIFY_SECRET,
      SHOPIFY_API_ORIGIN: fake.origin,
      BUYER_DATA_RETENTION: '3s',
    });
  });
  afterAll(async () => {
    await stop();
    await fake?.close();
    await receiver?.close();
    if (!env) return;
    await dropDatabase(env.DATABASE_URL);
    await flushQueuePrefix(env.QUEUE_PREFIX);
  });

  it('seals, exports, erases, retains, rotates keys; no buyer field in any log line', async () => {
    p = await start(K1);
    const partner = await call('POST', '/v1/admin/partners', { name: 'P' }, TEST_ADMIN_TOKEN);
    apiKey = partner.body.apiKey as string;
    const brand = await call('POST', '/v1/brands', { name: 'Brand' });
    const conn = await call('POST', `/v1/brands/${brand.body.id}/store-connections`, {
      provider: 'shopify',
      shop: fake.shop,
      returnUrl: `${p.baseUrl}/done`,
    });
    const consent = await fetch(conn.body.authorizeUrl as string, { redirect: 'manual' });
    await fetch(consent.headers.get('location')!, { redirect: 'manual' });
    await waitFor(
      async () =>
        (await call('GET', `/v1/store-connections/${conn.body.id}`)).body.sync?.lastSyncedAt,
      { what: 'import', timeoutMs: 30_000 },
    );
    const products = await call('GET', `/v1/brands/${brand.body.id}/products`);
    const variantId = products.body.data[0].variants[0].id as string;
    const endpoint = await call('POST', '/v1/webhook-endpoints', {
      url: receiver.url,
      events: ['*'],
    });
    receiver.trust(endpoint.body.secret as string);
    const channel = await call('POST', '/v1/channels', { name: 'Live' });
    const dest = await call('POST', `/v1/channels/${channel.body.id}/destinations`, {
      name: 'Platform',
      kind: 'social_platform',
      url: 'rtmp://127.0.0.1:1/live',
      streamKey: 'sk_live_destination_key_1234',
    });
    expect(dest.status).toBe(201);

    let seq = 0;
    const order = async (buyer: object) => {
      const res = await call('POST', '/v1/orders', {
        externalId: `e2e-${++seq}`,
        brandId: brand.body.id,
        lineItems: [{ variantId, quantity: 1 }],
        customer: buyer,
      });
      expect(res.status).toBe(202);
      return waitFor(
        async () => {
          const o = await call('GET', `/v1/orders/${res.body.id}`);
          return o.body.status === 'placed' ? o.body : null;
        },
        { what: 'order placed', timeoutMs: 30_000 },
      );
    };
    const kept = await order(BUYER);
    const fulfilled = await order(BUYER);

    // Sealed at rest: the dump holds none of it.
    expectNone(await pgDump(), NEEDLES, 'pg_dump');

    // Retention (3 s after a final state): the store fulfils one order, its buyer goes.
    const paid = fake.markOrderPaid(Number(fulfilled.storeOrderId)) as unknown as Json;
    const hook = await fake.sendWebhook(`${p.baseUrl}/webhooks/shopify`, 'orders/fulfilled', {
      ...paid,
      fulfillment_status: 'fulfilled',
    });
    expect(hook.status).toBe(200);
    await waitFor(
      async () => (await call('GET', `/v1/orders/${fulfilled.id}`)).body.status === 'fulfilled',
      { what: 'fulfilled', timeoutMs: 30_000 },
    );
    const exported = await waitFor(
      async () => {
        const e = await call('POST', '/v1/privacy/requests', {
          kind: 'export',
          email: BUYER.email,
        });
        return e.body.ordersFound === 1 ? e.body : null;
      },
      { what: 'retention to erase the fulfilled order', timeoutMs: 40_000, intervalMs: 1000 },
    );
    // Export returns every field of the order that still holds them.
    expect(exported.data.orders).toEqual([
      {
        orderId: kept.id,
        externalId: kept.externalId,
        customer: expect.objectContaining({
          email: BUYER.email,
          name: BUYER.name,
          phone: BUYER.phone,
          shippingAddress: expect.objectContaining(BUYER.shippingAddress),
          billingAddress: expect.objectContaining(BUYER.billingAddress),
        }),
      },
    ]);
    expect((await call('GET', `/v1/orders/${fulfilled.id}`)).status).toBe(200);

    // Erase: gone from the dump, the order still reads, the partner is told.
    const erased = await call('POST', '/v1/privacy/requests', {
      kind: 'erase',
      email: BUYER.email,
    });
    expect(erased.status).toBe(202);
    expect(erased.body).toMatchObject({
      status: 'completed',
      ordersFound: 1,
      partnersNotified: [partner.body.id],
    });
    expectNone(await pgDump(), NEEDLES, 'pg_dump after the erasure');
    expect((await call('GET', `/v1/orders/${kept.id}`)).body).toMatchObject({
      id: kept.id,
      lineItems: kept.lineItems,
      totalPrice: kept.totalPrice,
    });
    await receiver.waitFor(
      (r) => r.accepted.some((w) => w.payload?.type === 'privacy.buyer_erased'),
      { what: 'privacy.buyer_erased', timeoutMs: 30_000 },
    );
    const event = receiver.accepted.find((w) => w.payload?.type === 'privacy.buyer_erased')!;
    expect(event.payload!.data).toEqual({ requestId: erased.body.id, orderIds: [kept.id] });
    const read = await call('GET', `/v1/privacy/requests/${erased.body.id}`);
    expect(read.body).toMatchObject({ id: erased.body.id, kind: 'erase', source: 'api' });

    // One more buyer, so that rotation has buyer data to re-seal.
    const later = await order(LATER);
    expect((await sealedRows()).every((c) => c.keyId === 'k1')).toBe(true);
    await stop();

    // "k2" alone while rows still need k1: a clear error naming it, the process stops.
    const refused = await spawnCastbridge({ ...env, ENCRYPTION_KEYS: K2 });
    const code = await Promise.race([
      refused.exited,
      new Promise<'running'>((r) => setTimeout(() => r('running'), 40_000)),
    ]);
    logs.push(refused.output());
    if (code === 'running') await refused.stop('SIGKILL');
    expect(code).not.toBe(0);
    expect(code).not.toBe('running');
    expect(refused.output()).toContain('"k1"');

    // "k2,k1": everything readable; npm run keys:rotate re-seals and reports k1 unused.
    p = await start(`${K2},${K1}`);
    const cli = await run('npm', ['run', '--silent', 'keys:rotate'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        ...env,
        ENCRYPTION_KEYS: `${K2},${K1}`,
      },
    });
    logs.push(cli.stdout, cli.stderr);
    expect(cli.stdout).toMatch(/key "k1": 0 value\(s\) left — unused/);
    expect(cli.stdout).toContain('orders.customer_sealed');
    // /metrics agrees (its counts are at most 30 s old).
    await waitFor(
      async () => {
        const rows = await sealedRows();
        return rows.length > 0 && rows.every((c) => c.keyId === 'k2');
      },
      { what: '/metrics to report no value under k1', timeoutMs: 40_000, intervalMs: 1000 },
    );
    const columns = new Set((await sealedRows()).map((c) => c.column));
    for (const col of [
      'orders.customer_sealed',
      'destinations.stream_key_sealed',
      'store_connections.access_token_sealed',
      'webhook_endpoints.secret_sealed',
    ]) {
      expect(columns).toContain(col);
    }
    await stop();

    // "k2" alone: starts, and every sealed value opens with k2 alone.
    p = await start(K2);
    const box = new SecretBox([{ id: 'k2', key: Buffer.from(K2.slice(3), 'base64') }]);
    const db = new Client({ connectionString: env.DATABASE_URL });
    await db.connect();
    try {
      let opened = 0;
      for (const c of SEALED_COLUMNS) {
        const rows = await db.query(
          `SELECT "${c.idColumn}"::text AS id, "${c.sealedColumn}" AS sealed, "${c.keyIdColumn}" AS key_id
             FROM "${c.table}" WHERE "${c.sealedColumn}" IS NOT NULL`,
        );
        for (const r of rows.rows) {
          expect(() => box.open({ keyId: r.key_id, sealed: r.sealed }, c.aad(r.id))).not.toThrow();
          opened++;
        }
        if (rows.rowCount) expect(columnName(c)).toBeTruthy();
      }
      expect(opened).toBeGreaterThanOrEqual(4);
    } finally {
      await db.end();
    }
    // …and the service uses them: a new order is placed in the store (the store token),
    // its event arrives signed with the endpoint's secret, the later buyer exports.
    const before = receiver.accepted.length;
    await order({ email: 'after.rotation@example.com' });
    await receiver.waitFor((r) => r.accepted.length > before, {
      what: 'a signed event after rotation',
    });
    const again = await call('POST', '/v1/privacy/requests', {
      kind: 'export',
      email: LATER.email,
    });
    expect(again.body.data.orders).toEqual([
      expect.objectContaining({ orderId: later.id, customer: expect.objectContaining(LATER) }),
    ]);
    await stop();

    // No buyer field in any log line of any process (debug level) or the rotation's output.
    const all = logs.join('\n');
    expect(all.length).toBeGreaterThan(1000);
    expectNone(all, [...NEEDLES, ...LATER_NEEDLES], 'the logs');
  }, 300_000);
});
