import { getQueueToken } from '@nestjs/bullmq';
import { Queue } from 'bullmq';
import { DataSource } from 'typeorm';
import { QueueName } from '../../src/queues/queue-registry';
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

const PRODUCTS = 3000;

describe('catalog import and reconciliation against the local store', () => {
  let f: CommerceFixture;
  let db: DataSource;
  let connectionId: string;

  beforeAll(async () => {
    f = await startCommerce({ products: PRODUCTS, variantsPerProduct: 3 });
    db = f.db;
  });
  afterAll(() => f.close());

  it('imports thousands of products across pages, waits out a 429, resumes after a crash, shows progress', async () => {
    // A 429 (Retry-After: 1.0) on the 5th Admin call, and a store outage on the 7th page
    // long enough to fail the job attempt (the retry must resume from the saved cursor).
    f.fake.rateLimitNext(1, '1.0', 4);
    f.fake.failProductPages(5, 6);
    const started = Date.now();
    const linked = await linkStore(f);
    connectionId = linked.connectionId;

    const seen: Array<{ state: string; imported: number; total: number | null }> = [];
    const poll = setInterval(() => {
      void f.t
        .http()
        .get(`/v1/store-connections/${connectionId}`)
        .set(f.auth)
        .then((r) => seen.push(r.body.sync));
    }, 100);
    const done = await waitForImport(f, connectionId, 90_000);
    clearInterval(poll);

    expect(done.sync).toMatchObject({ imported: PRODUCTS, total: PRODUCTS, lastError: null });
    const [{ p, v }] = await db.query(
      `SELECT (SELECT count(*)::int FROM products) AS p, (SELECT count(*)::int FROM variants) AS v`,
    );
    expect(p).toBe(PRODUCTS);
    expect(v).toBe(PRODUCTS * 3);

    // Progress was visible while running.
    expect(
      seen.some(
        (s) =>
          s.state === 'running' && s.imported > 0 && s.imported < PRODUCTS && s.total === PRODUCTS,
      ),
    ).toBe(true);

    const pageCalls = f.fake.requests.filter((r) => r.path.endsWith('/products.json'));
    // Largest page size, cursor pagination.
    expect(pageCalls.every((r) => r.query.limit === '250')).toBe(true);
    expect(pageCalls.filter((r) => r.status === 200)).toHaveLength(PRODUCTS / 250);
    // The 429 was honoured: the next call came at least Retry-After later.
    const i429 = f.fake.requests.findIndex((r) => r.status === 429);
    expect(i429).toBeGreaterThan(-1);
    const failedPages = pageCalls.filter((r) => r.status === 500);
    expect(failedPages.length).toBe(5);
    // After the failed attempt the job resumed with a page_info cursor, never from page 1 again.
    const firstPages = pageCalls.filter((r) => r.status === 200 && !r.query.page_info);
    expect(firstPages).toHaveLength(1);
    expect(f.fake.requests.filter((r) => r.path.endsWith('/products/count.json'))).toHaveLength(1);

    const queue = f.t.app.get<Queue>(getQueueToken(QueueName.CatalogSync));
    const jobs = await queue.getJobs(['completed']);
    const importJob = jobs.find((j) => j.name === 'catalog.import');
    expect(importJob?.progress).toBe(100);
    expect(importJob?.attemptsMade).toBeGreaterThanOrEqual(1);
    expect(importJob?.data).toEqual({ storeConnectionId: connectionId });
    expect(Date.now() - started).toBeLessThan(60_000);
    // No per-product events for the initial import.
    const [{ n }] = await db.query(
      `SELECT count(*)::int AS n FROM outbox_events WHERE type LIKE 'product.%'`,
    );
    expect(n).toBe(0);
  });

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
    expect(row).toEqual({ title: 'Changed while our webhook was lost', price: '99.00' });
    // Only what changed since the watermark was fetched.
    const calls = f.fake.requests
      .slice(requestsBefore)
      .filter((r) => r.path.endsWith('/products.json'));
    expect(calls[0].query.updated_at_min).toBeTruthy();
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
      { what: 'the deletion' },
    );
    await f.t.http().get(`/v1/products/${id}`).set(f.auth).expect(404);
    const [event] = await outboxEvents(f, 'product.deleted');
    expect(event.data).toMatchObject({ productId: id, externalId: String(c.id) });
    // The id sweep asked for ids only.
    const sweep = f.fake.requests.slice(before).filter((r) => r.query.fields === 'id');
    expect(sweep.length).toBe(Math.ceil((PRODUCTS - 1) / 250));
  });

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
  });
});
