import { getQueueToken } from '@nestjs/bullmq';
import { Queue } from 'bullmq';
import { DataSource } from 'typeorm';
import { QueueName } from '../../src/queues/queue-registry';
import { FakeProduct } from '../support/fake-shopify';
import { waitFor } from '../support/processes';
import {
  CommerceFixture,
  linkStore,
  outboxEvents,
  productByExternalId,
  startCommerce,
  waitForCatalogSyncIdle,
  waitForImport,
  waitForInboundApplied,
} from '../support/commerce';

const PRODUCTS = 10_000;
/** Plus one product with 300 variants (Shopify's model allows 2,048; REST showed 100). */
const ALL = PRODUCTS + 1;

describe('catalog import and reconciliation against the local store', () => {
  let f: CommerceFixture;
  let db: DataSource;
  let connectionId: string;
  let big: FakeProduct;

  beforeAll(async () => {
    f = await startCommerce({ products: PRODUCTS, variantsPerProduct: 3 });
    big = f.fake.addProduct({ title: 'Many sizes', variants: 300 });
    db = f.db;
  });
  afterAll(() => f.close());

  it('imports 10,000 products × 3 and a 300-variant product by bulk operations: throttled, a 429, a token expiring and a cut download in the middle, progress shown', async () => {
    const shop = f.fake.shop;
    // Mid-import: the bucket empties when the products export starts, an HTTP 429
    // (Retry-After 1.0) comes one call later, the access token expires when the stock
    // export starts, and the first download of the products file is cut after 12,000 lines.
    f.fake.onBulkStart = (query) => {
      if (query.includes('products')) {
        f.fake.drainBucketBeforeNextCall();
        f.fake.rateLimitNext(1, '1.0', 1);
      } else {
        f.fake.expireAccessTokens();
      }
    };
    f.fake.cutNextBulkResults(1, 12_000);
    const linked = await linkStore(f);
    connectionId = linked.connectionId;

    const seen: Array<{ state: string; imported: number; total: number | null }> = [];
    const poll = setInterval(() => {
      void f.t
        .http()
        .get(`/v1/store-connections/${connectionId}`)
        .set(f.auth)
        .then((r) => {
          if (r.body?.sync) seen.push(r.body.sync);
        });
    }, 100);
    const done = await waitForImport(f, connectionId, 180_000);
    clearInterval(poll);
    f.fake.onBulkStart = null;

    expect(done.sync).toMatchObject({ imported: ALL, total: ALL, lastError: null });
    const [{ p, v }] = await db.query(
      `SELECT (SELECT count(*)::int FROM products) AS p, (SELECT count(*)::int FROM variants) AS v`,
    );
    expect(p).toBe(ALL);
    expect(v).toBe(PRODUCTS * 3 + 300);
    const [{ n: bigVariants }] = await db.query(
      `SELECT count(*)::int AS n FROM variants v JOIN products p ON p.id = v.product_id
        WHERE p.external_id = $1`,
      [String(big.id)],
    );
    expect(bigVariants).toBe(300);
    // Stock per location came from the inventory export: one level per variant here.
    const [{ n: levels }] = await db.query(`SELECT count(*)::int AS n FROM inventory_levels`);
    expect(levels).toBe(PRODUCTS * 3 + 300);

    // Progress was visible while running.
    expect(
      seen.some(
        (s) => s.state === 'running' && s.imported > 0 && s.imported < ALL && s.total === ALL,
      ),
    ).toBe(true);

    const calls = f.fake.requests.filter((r) => r.shop === shop);
    // GraphQL only: every Admin API call went to graphql.json.
    const admin = calls.filter((r) => r.path.startsWith('/admin/api/'));
    expect(admin.length).toBeGreaterThan(0);
    expect(admin.every((r) => r.path.endsWith('/graphql.json'))).toBe(true);

    // Throttled: the next call came no sooner than the bucket could hold what was asked.
    const ti = calls.findIndex((r) => r.throttled !== null);
    expect(ti).toBeGreaterThan(-1);
    const t = calls[ti].throttled!;
    const needMs = ((t.requested - t.available) / t.restoreRate) * 1000;
    expect(calls[ti + 1].at - calls[ti].at).toBeGreaterThanOrEqual(Math.floor(needMs));
    // The 429 was honoured: the next call came at least Retry-After (1.0 s) later.
    const ri = calls.findIndex((r) => r.status === 429);
    expect(ri).toBeGreaterThan(-1);
    expect(calls[ri + 1].at - calls[ri].at).toBeGreaterThanOrEqual(1000);

    // The expired token was refreshed once (and the refresh token rotated).
    expect(f.fake.refreshes.get(shop)).toBe(1);
    // The cut download failed one attempt; the retry resumed in the same export (two
    // exports in all: products, stock) from the saved count, and downloaded the file twice.
    const runs = admin.filter((r) => r.fields.includes('bulkOperationRunQuery'));
    expect(runs).toHaveLength(2);
    const downloads = calls.filter((r) => r.path.startsWith('/bulk-results/'));
    expect(downloads).toHaveLength(3);
    expect(admin.filter((r) => r.fields.includes('productsCount'))).toHaveLength(1);

    const queue = f.t.app.get<Queue>(getQueueToken(QueueName.CatalogSync));
    const jobs = await queue.getJobs(['completed']);
    const importJob = jobs.find((j) => j.name === 'catalog.import');
    expect(importJob?.progress).toBe(100);
    // Exactly one failed attempt before the one that finished.
    expect(importJob?.attemptsMade).toBe(2);
    expect(importJob?.data).toEqual({ storeConnectionId: connectionId });
    // No per-product events for the initial import.
    const [{ n }] = await db.query(
      `SELECT count(*)::int AS n FROM outbox_events WHERE type LIKE 'product.%'`,
    );
    expect(n).toBe(0);
  }, 300_000);

  it('schedules reconciliation every RECONCILE_INTERVAL and the inbound sweep, once each', async () => {
    const sync = f.t.app.get<Queue>(getQueueToken(QueueName.CatalogSync));
    const inbound = f.t.app.get<Queue>(getQueueToken(QueueName.InboundEvents));
    const [reconcile] = await sync.getJobSchedulers();
    expect(reconcile).toMatchObject({
      key: 'reconcile-all',
      every: f.t.config.reconcileIntervalMs,
    });
    expect((await inbound.getJobSchedulers()).map((s) => s.key).sort()).toEqual([
      'apply-inbound-sweep',
      'prune-inbound-daily',
    ]);
  });

  it('repairs a dropped webhook by reconciliation (same apply code, events emitted)', async () => {
    // From here on a Shopify Plus bucket (1,000 points/s): the id sweep over 10,000 products
    // pages 40 times, which at the Standard 100/s is paced to well over a minute.
    f.fake.throttle = { maximumAvailable: 20_000, restoreRate: 1000 };
    const [a, b] = [...f.fake.products.values()];
    f.fake.updateProduct(a.id, { title: 'Changed while our webhook was lost', price: '99.00' });
    f.fake.updateProduct(b.id, { title: 'Also changed' });
    const requestsBefore = f.fake.requests.length;
    await f.t.http().post(`/v1/store-connections/${connectionId}/sync`).set(f.auth).expect(202);
    await waitForInboundApplied(f);
    let row: { title: string; price: string } | undefined;
    for (let i = 0; i < 100 && row?.title !== 'Changed while our webhook was lost'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      [row] = await db.query(
        `SELECT p.title, v.price::text AS price FROM products p JOIN variants v ON v.product_id = p.id
          WHERE p.external_id = $1 LIMIT 1`,
        [String(a.id)],
      );
    }
    if (row?.title !== 'Changed while our webhook was lost') {
      console.log(
        JSON.stringify(
          f.fake.requests
            .slice(requestsBefore)
            .map((r) => [r.at, r.path, r.fields, r.search, r.status, r.throttled]),
        ),
      );
    }
    expect(row).toEqual({ title: 'Changed while our webhook was lost', price: '99.00' });
    // Only what changed since the watermark was fetched (a paged query filtered by updated_at).
    const calls = f.fake.requests
      .slice(requestsBefore)
      .filter((r) => r.fields.includes('products'));
    expect(calls.length).toBeGreaterThan(0);
    expect(calls[0].search).toMatch(/^updated_at:>'/);
    const events = await outboxEvents(f, 'product.updated');
    expect(events.map((e: { data: { title: string } }) => e.data.title).sort()).toEqual([
      'Also changed',
      'Changed while our webhook was lost',
    ]);
  });

  it('reconciliation finds a product deleted without a webhook', async () => {
    // The previous test's reconcile job may still be finishing (it answers before the job
    // ends): under load it would see this deletion too and sweep a second time.
    await waitForCatalogSyncIdle(f);
    const [, , c] = [...f.fake.products.values()];
    f.fake.deleteProduct(c.id);
    const { id } = (await productByExternalId(f, c.id))!;
    const before = f.fake.requests.length;
    await f.t.http().post(`/v1/store-connections/${connectionId}/sync`).set(f.auth).expect(202);
    await waitFor(
      async () => {
        const [row] = await db.query(`SELECT deleted_at FROM products WHERE id = $1`, [id]);
        return row.deleted_at !== null;
      },
      { what: 'the deletion', timeoutMs: 120_000 },
    );
    await f.t.http().get(`/v1/products/${id}`).set(f.auth).expect(404);
    const [event] = await outboxEvents(f, 'product.deleted');
    expect(event.data).toMatchObject({ productId: id, externalId: String(c.id) });
    // The id sweep paged through ids only (250 a page).
    const sweep = f.fake.requests
      .slice(before)
      .filter((r) => r.fields.includes('products') && r.search === null);
    expect(sweep.length).toBe(Math.ceil((ALL - 1) / 250));
  }, 180_000);

  it('runs one reconciliation of a connection at a time; asked for while one runs, one more runs after it', async () => {
    const sync = f.t.app.get<Queue>(getQueueToken(QueueName.CatalogSync));
    // (Not the delayed ones: the reconcile-all scheduler always keeps its next run there.)
    const busy = async () => (await sync.getActiveCount()) + (await sync.getWaitingCount());
    await waitForCatalogSyncIdle(f);
    const t0 = Date.now();
    // The next reconciliation waits out three 429s (Retry-After 1 s) inside its job.
    f.fake.rateLimitNext(3, '1.0');
    const sync202 = () =>
      f.t.http().post(`/v1/store-connections/${connectionId}/sync`).set(f.auth).expect(202);
    await sync202();
    await waitFor(async () => (await sync.getActiveCount()) === 1, { what: 'reconcile running' });
    for (let i = 0; i < 3; i++) await sync202();
    let mostActive = 0;
    await waitFor(
      async () => {
        mostActive = Math.max(mostActive, await sync.getActiveCount());
        return (await busy()) === 0;
      },
      { what: 'both reconciliations done', timeoutMs: 30_000 },
    );
    expect(mostActive).toBe(1);
    const ran = (await sync.getCompleted()).filter(
      (j) => j.name === 'catalog.reconcile' && j.timestamp >= t0,
    );
    expect(ran).toHaveLength(2);
  }, 180_000);
});
