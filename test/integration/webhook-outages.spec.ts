import {
  CommerceFixture,
  linkStore,
  productByExternalId,
  startCommerce,
  waitForImport,
  waitForInboundApplied,
} from '../support/commerce';
import { TcpProxy } from '../support/tcp-proxy';
import { uniqueName } from '../support/test-env';

/**
 * Postgres or Redis goes away while webhooks arrive: every webhook is answered either
 * 200 (and then it is applied, whatever happens next) or 5xx (and the store sends it
 * again); none answered 200 is lost.
 */
describe('webhooks while Postgres or Redis is unavailable', () => {
  let f: CommerceFixture;
  let pgProxy: TcpProxy;
  let redisProxy: TcpProxy;
  let url: string;
  /** The last title each product was sent with, among webhooks answered 200. */
  const acceptedTitle = new Map<number, string>();
  /** Every event id the app answered 200 (the store then never sends it again). */
  const acceptedEvents = new Set<string>();
  let seq = 0;

  beforeAll(async () => {
    pgProxy = await new TcpProxy('127.0.0.1', 5432).start();
    redisProxy = await new TcpProxy('127.0.0.1', 6379).start();
    f = await startCommerce({
      products: 20,
      env: {
        DATABASE_URL: `postgres://postgres@127.0.0.1:${pgProxy.port}/${uniqueName('cbt')}`,
        REDIS_URL: `redis://127.0.0.1:${redisProxy.port}`,
      },
    });
    const { connectionId } = await linkStore(f);
    await waitForImport(f, connectionId);
    url = `${f.baseUrl}/webhooks/shopify`;
  });
  afterAll(async () => {
    pgProxy.restore();
    redisProxy.restore();
    await f.close();
    await pgProxy.close();
    await redisProxy.close();
  });

  /** Sends one product update; remembers it when answered 200. */
  async function send(
    i: number,
    eventId = `evt-${++seq}`,
  ): Promise<{ status: number; eventId: string }> {
    const id = [...f.fake.products.keys()][i];
    const p = f.fake.updateProduct(id, { title: `title ${seq}` });
    const res = await f.fake.sendWebhook(url, 'products/update', p, { eventId });
    if (res.status === 200) {
      acceptedTitle.set(id, p.title);
      acceptedEvents.add(eventId);
    }
    return { status: res.status, eventId };
  }

  async function resend(eventId: string, i: number): Promise<number> {
    const id = [...f.fake.products.keys()][i];
    const p = structuredClone(f.fake.products.get(id)!);
    const res = await f.fake.sendWebhook(url, 'products/update', p, { eventId });
    if (res.status === 200) {
      acceptedTitle.set(id, p.title);
      acceptedEvents.add(eventId);
    }
    return res.status;
  }

  /** The store sends each one again until it gets a 2xx (at most 50 times, 200 ms apart). */
  async function retryUntilAccepted(events: Array<{ eventId: string; i: number }>): Promise<void> {
    for (const { eventId, i } of events) {
      let status = 0;
      for (let attempt = 0; attempt < 50 && status !== 200; attempt++) {
        status = await resend(eventId, i);
        if (status !== 200) await new Promise((r) => setTimeout(r, 200));
      }
      expect(status).toBe(200);
    }
  }

  it('accepts while both are up', async () => {
    for (let i = 0; i < 5; i++) expect((await send(i)).status).toBe(200);
  });

  it('Redis down: 503 within about a second; the store’s retry after recovery is accepted; nothing lost', async () => {
    redisProxy.cut();
    await new Promise((r) => setTimeout(r, 200));
    const failed: Array<{ eventId: string; i: number }> = [];
    for (let i = 5; i < 10; i++) {
      const r = await send(i);
      expect(r.status).toBe(503);
      failed.push({ eventId: r.eventId, i });
    }
    redisProxy.restore();
    // The store retries each one until it gets a 2xx.
    await retryUntilAccepted(failed);
  });

  it('Redis hangs (connected, no answers): answers 200 while its row is safe, 503 once a wake-up times out; retries accepted after; nothing lost', async () => {
    // Redis answering: a webhook goes through (and its wake-up with it).
    expect((await send(15)).status).toBe(200);
    redisProxy.stall();
    const statuses: number[] = [];
    const refused: Array<{ eventId: string; i: number }> = [];
    for (let n = 0; n < 12; n++) {
      const i = 15 + (n % 5);
      const r = await send(i);
      expect([200, 503]).toContain(r.status);
      statuses.push(r.status);
      if (r.status === 503) refused.push({ eventId: r.eventId, i });
      await new Promise((res) => setTimeout(res, 100));
    }
    // The first ones are answered at once (Redis was answering until then; their rows are
    // committed); once a wake-up has timed out, every caller waits for its own: 503.
    expect(statuses[0]).toBe(200);
    const firstRefusal = statuses.indexOf(503);
    expect(firstRefusal).toBeGreaterThan(0);
    expect(statuses.slice(firstRefusal).every((s) => s === 503)).toBe(true);
    redisProxy.restore();
    await retryUntilAccepted(refused);
  });

  it('Postgres down: 503, nothing recorded; the retry after recovery is accepted; nothing lost', async () => {
    pgProxy.cut();
    const failed: Array<{ eventId: string; i: number }> = [];
    for (let i = 10; i < 15; i++) {
      const r = await send(i);
      expect(r.status).toBeGreaterThanOrEqual(500);
      failed.push({ eventId: r.eventId, i });
    }
    pgProxy.restore();
    await retryUntilAccepted(failed);
  });

  it('every webhook answered 200 ends up applied', async () => {
    await waitForInboundApplied(f, 60_000);
    // Each event answered 200, by its id: recorded and applied (a later resend of the same
    // product must not hide an early 200 that was lost).
    expect(acceptedEvents.size).toBeGreaterThanOrEqual(20);
    const rows: Array<{ event_key: string; applied_at: Date | null; outcome: string | null }> =
      await f.db.query(
        `SELECT event_key, applied_at, outcome FROM inbound_events WHERE event_key = ANY($1::text[])`,
        [[...acceptedEvents]],
      );
    const byKey = new Map(rows.map((r) => [r.event_key, r]));
    for (const eventId of acceptedEvents) {
      const row = byKey.get(eventId);
      expect({ eventId, recorded: row !== undefined }).toEqual({ eventId, recorded: true });
      expect(row!.applied_at).not.toBeNull();
      expect(['updated', 'created', 'stale']).toContain(row!.outcome);
    }
    for (const [id, title] of acceptedTitle) {
      expect((await productByExternalId(f, id))!.title).toBe(title);
    }
    expect(acceptedTitle.size).toBe(20);
    const [{ n }] = await f.db.query(
      `SELECT count(*)::int AS n FROM inbound_events WHERE outcome = 'failed'`,
    );
    expect(n).toBe(0);
  });
});
