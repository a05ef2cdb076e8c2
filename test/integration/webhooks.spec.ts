import { getQueueToken } from '@nestjs/bullmq';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { Job, Queue } from 'bullmq';
import { DataSource } from 'typeorm';
import { EventType } from '../../src/notifications/event-types';
import { MaintenanceProcessor } from '../../src/notifications/outbox-maintenance.processor';
import { OutboxRelay } from '../../src/notifications/outbox-relay.service';
import { OutboxService } from '../../src/notifications/outbox.service';
import { WebhookDeliveriesService } from '../../src/notifications/webhook-deliveries.service';
import { QueueName } from '../../src/queues/queue-registry';
import { createPartner, startTestApp, TestApp } from '../support/test-app';
import { REDIS_URL } from '../support/test-env';
import { WebhookReceiver } from '../support/webhook-receiver';

/** Outbound webhooks end to end: API → outbox → relay → BullMQ → a verifying receiver. */
describe('outbound webhooks (api + worker, real Postgres, Redis and HTTP)', () => {
  let t: TestApp;
  let db: DataSource;
  const receivers: WebhookReceiver[] = [];
  const secretsSeen: string[] = [];

  beforeAll(async () => {
    t = await startTestApp({ ROLES: 'api,worker', WEBHOOK_RETRY_BASE: '100ms' });
    db = t.app.get(getDataSourceToken());
  });
  afterAll(async () => {
    for (const r of receivers) await r.close();
    await t.close();
  });

  async function receiver(): Promise<WebhookReceiver> {
    const r = await WebhookReceiver.start();
    receivers.push(r);
    return r;
  }

  async function partner(name = 'P') {
    const p = await createPartner(t, name);
    return { id: p.id, auth: { authorization: `Bearer ${p.apiKey}` } };
  }

  async function endpoint(
    auth: Record<string, string>,
    url: string,
    events: string[] = ['*'],
  ): Promise<{ id: string; secret: string }> {
    const res = await t.http().post('/v1/webhook-endpoints').set(auth).send({ url, events });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.any(String),
      url,
      events,
      enabled: true,
      disabledReason: null,
      secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]+=*$/),
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    secretsSeen.push(res.body.secret);
    return res.body;
  }

  /** Records an event the way features do: in a transaction, through the outbox. */
  async function record(partnerId: string, type: EventType, data: Record<string, unknown> = {}) {
    const outbox = t.app.get(OutboxService);
    // Any payload: the delivery machinery does not look into it.
    return db.transaction((m) => outbox.record(m, partnerId, type, data as never));
  }

  async function deliveries(auth: Record<string, string>, endpointId: string, query = '') {
    const res = await t
      .http()
      .get(`/v1/webhook-endpoints/${endpointId}/deliveries${query}`)
      .set(auth)
      .expect(200);
    return res.body.data as Array<Record<string, unknown>>;
  }

  async function waitUntil(fn: () => Promise<boolean>, what: string, timeoutMs = 15_000) {
    const deadline = Date.now() + timeoutMs;
    while (!(await fn())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('delivers a recorded event, signed so the official library verifies it', async () => {
    const p = await partner();
    const r = await receiver();
    const ep = await endpoint(p.auth, r.url);
    r.trust(ep.secret);
    const event = await record(p.id, 'session.started', { sessionId: 's1', channelId: 'c1' });

    await r.waitFor((x) => x.accepted.length === 1);
    const got = r.accepted[0];
    expect(got.payload).toEqual({
      id: event.id,
      type: 'session.started',
      createdAt: event.createdAt.toISOString(),
      data: { sessionId: 's1', channelId: 'c1' },
    });
    expect(r.rejected).toHaveLength(0);

    await waitUntil(
      async () => (await deliveries(p.auth, ep.id))[0]?.status === 'delivered',
      'delivered status',
    );
    const [d] = await deliveries(p.auth, ep.id);
    expect(d).toEqual({
      id: got.webhookId,
      eventId: event.id,
      eventType: 'session.started',
      status: 'delivered',
      attempts: 1,
      lastResponseStatus: 204,
      lastError: null,
      nextAttemptAt: null,
      deliveredAt: expect.any(String),
      createdAt: expect.any(String),
    });
    const detail = await t
      .http()
      .get(`/v1/webhook-endpoints/${ep.id}/deliveries/${d.id as string}`)
      .set(p.auth)
      .expect(200);
    expect(detail.body.attemptLog).toEqual([
      {
        attempt: 1,
        at: expect.any(String),
        responseStatus: 204,
        durationMs: expect.any(Number),
        error: null,
      },
    ]);
  });

  it('retries a failing endpoint until it recovers: each delivery id accepted exactly once', async () => {
    const p = await partner();
    const r = await receiver();
    const ep = await endpoint(p.auth, r.url);
    r.trust(ep.secret).failNext(4, 500).failNext(1, 302, { location: 'http://127.0.0.1:1/x' });
    for (let i = 0; i < 3; i++) await record(p.id, 'order.placed', { orderId: `o${i}` });

    await r.waitFor((x) => x.accepted.length >= 3, { what: '3 accepted' });
    await new Promise((res) => setTimeout(res, 800)); // room for any stray duplicate
    const ids = r.accepted.map((x) => x.webhookId);
    expect(new Set(ids).size).toBe(3);
    expect(ids).toHaveLength(3);
    expect(r.received.filter((x) => x.status >= 300)).toHaveLength(5);
    // Every failed request was for one of the deliveries, with the same webhook-id.
    for (const failed of r.received.filter((x) => x.status >= 300)) {
      expect(ids).toContain(failed.webhookId);
    }
    expect(r.rejected).toHaveLength(0);
    expect(new Set(r.accepted.map((x) => x.payload?.data.orderId))).toEqual(
      new Set(['o0', 'o1', 'o2']),
    );

    const list = await deliveries(p.auth, ep.id);
    expect(list.every((d) => d.status === 'delivered')).toBe(true);
    expect(list.reduce((n, d) => n + (d.attempts as number), 0)).toBe(8);
    const retried = list.find((d) => (d.attempts as number) > 1)!;
    const detail = await t
      .http()
      .get(`/v1/webhook-endpoints/${ep.id}/deliveries/${retried.id as string}`)
      .set(p.auth)
      .expect(200);
    const log = detail.body.attemptLog as Array<{ responseStatus: number; error: string | null }>;
    expect(log[log.length - 1]).toMatchObject({ responseStatus: 204, error: null });
    expect(log[0].error).toMatch(/^HTTP (500|302)$/);
  });

  it('honours Retry-After', async () => {
    const p = await partner();
    const r = await receiver();
    const ep = await endpoint(p.auth, r.url);
    r.trust(ep.secret).failNext(1, 503, { 'retry-after': '1' });
    await record(p.id, 'inventory.updated', { variantId: 'v1' });
    await r.waitFor((x) => x.accepted.length === 1);
    const [first, second] = r.received;
    expect(first.status).toBe(503);
    expect(second.webhookId).toBe(first.webhookId);
    // The backoff alone would have retried after ~100 ms.
    expect(second.receivedAt - first.receivedAt).toBeGreaterThanOrEqual(950);
  });

  it('attempts a waiting delivery at once on a manual retry', async () => {
    const p = await partner();
    const r = await receiver();
    const ep = await endpoint(p.auth, r.url);
    r.trust(ep.secret).failNext(1, 503, { 'retry-after': '3600' });
    await record(p.id, 'session.product_unpinned', { productId: 'x' });
    await waitUntil(
      async () => (await deliveries(p.auth, ep.id))[0]?.attempts === 1,
      'first attempt logged',
    );
    const [d] = await deliveries(p.auth, ep.id);
    expect(d).toMatchObject({ status: 'pending', lastResponseStatus: 503, lastError: 'HTTP 503' });
    const wait = Date.parse(d.nextAttemptAt as string) - Date.now();
    expect(wait).toBeGreaterThan(3500_000);
    await t
      .http()
      .post(`/v1/webhook-endpoints/${ep.id}/deliveries/${d.id as string}/retry`)
      .set(p.auth)
      .expect(202);
    await r.waitFor((x) => x.accepted.length === 1);
    expect(r.accepted[0].webhookId).toBe(d.id);
    await waitUntil(
      async () => (await deliveries(p.auth, ep.id))[0]?.status === 'delivered',
      'delivered',
    );
    await t
      .http()
      .post(`/v1/webhook-endpoints/${ep.id}/deliveries/00000000-0000-4000-8000-000000000000/retry`)
      .set(p.auth)
      .expect(404);
  });

  it('disables an endpoint that answers 410', async () => {
    const p = await partner();
    const r = await receiver();
    const ep = await endpoint(p.auth, r.url);
    r.trust(ep.secret).answerAlways(410);
    await record(p.id, 'product.updated', { productId: 'p1' });
    await waitUntil(async () => {
      const res = await t.http().get(`/v1/webhook-endpoints/${ep.id}`).set(p.auth);
      return res.body.enabled === false;
    }, 'endpoint disabled');
    const res = await t.http().get(`/v1/webhook-endpoints/${ep.id}`).set(p.auth).expect(200);
    expect(res.body).toMatchObject({ enabled: false, disabledReason: 'gone' });
    const [d] = await deliveries(p.auth, ep.id);
    expect(d).toMatchObject({ status: 'failed', attempts: 1, lastResponseStatus: 410 });
    expect(r.received).toHaveLength(1);

    // Nothing more goes to it; a manual retry is refused until it is enabled again.
    await record(p.id, 'product.updated', { productId: 'p2' });
    await new Promise((x) => setTimeout(x, 700));
    expect(r.received).toHaveLength(1);
    expect(await deliveries(p.auth, ep.id)).toHaveLength(1);
    const retry = await t
      .http()
      .post(`/v1/webhook-endpoints/${ep.id}/deliveries/${d.id as string}/retry`)
      .set(p.auth)
      .expect(409);
    expect(retry.body.error).toBe('CONFLICT');

    // Enabled again (the receiver is back), the manual retry re-sends the same webhook-id.
    r.answerAlways(null);
    await t
      .http()
      .patch(`/v1/webhook-endpoints/${ep.id}`)
      .set(p.auth)
      .send({ enabled: true })
      .expect(200)
      .expect((x) => expect(x.body).toMatchObject({ enabled: true, disabledReason: null }));
    await t
      .http()
      .post(`/v1/webhook-endpoints/${ep.id}/deliveries/${d.id as string}/retry`)
      .set(p.auth)
      .expect(202);
    await r.waitFor((x) => x.accepted.length === 1);
    expect(r.accepted[0].webhookId).toBe(d.id);
    await waitUntil(
      async () => (await deliveries(p.auth, ep.id))[0]?.status === 'delivered',
      'delivered after manual retry',
    );
  });

  it('disables an endpoint that has been failing for 5 days', async () => {
    const p = await partner();
    const r = await receiver();
    const ep = await endpoint(p.auth, r.url);
    r.trust(ep.secret).answerAlways(500);
    await db.query(
      `UPDATE webhook_endpoints SET failing_since = now() - interval '5 days 1 minute' WHERE id = $1`,
      [ep.id],
    );
    await record(p.id, 'order.updated', { orderId: 'o1' });
    await waitUntil(async () => {
      const res = await t.http().get(`/v1/webhook-endpoints/${ep.id}`).set(p.auth);
      return res.body.enabled === false;
    }, 'endpoint disabled');
    const res = await t.http().get(`/v1/webhook-endpoints/${ep.id}`).set(p.auth);
    expect(res.body.disabledReason).toBe('failing');
    const [d] = await deliveries(p.auth, ep.id);
    expect(d).toMatchObject({ status: 'failed', lastResponseStatus: 500 });
  });

  it('signs with the old and the new secret for 24 h after a rotation', async () => {
    const p = await partner();
    const r = await receiver();
    const ep = await endpoint(p.auth, r.url);
    const rotated = await t
      .http()
      .post(`/v1/webhook-endpoints/${ep.id}/secret`)
      .set(p.auth)
      .expect(201);
    expect(Object.keys(rotated.body)).toEqual(['secret']);
    const fresh = rotated.body.secret as string;
    expect(fresh).toMatch(/^whsec_/);
    expect(fresh).not.toBe(ep.secret);
    secretsSeen.push(fresh);

    r.trust(ep.secret, fresh);
    await record(p.id, 'session.ended', { sessionId: 's1' });
    await r.waitFor((x) => x.accepted.length === 1);
    expect(r.accepted[0].verifiedWith).toEqual([0, 1]); // either secret alone verifies
    expect(r.accepted[0].signature.split(' ')).toHaveLength(2);

    // Once the overlap is over, only the new secret signs.
    await db.query(
      `UPDATE webhook_endpoints SET previous_secret_expires_at = now() - interval '1 second' WHERE id = $1`,
      [ep.id],
    );
    await record(p.id, 'session.ended', { sessionId: 's2' });
    await r.waitFor((x) => x.accepted.length === 2);
    expect(r.accepted[1].verifiedWith).toEqual([1]);
    expect(r.accepted[1].signature.split(' ')).toHaveLength(1);
  });

  it('sends only the event types an endpoint subscribed to', async () => {
    const p = await partner();
    const r = await receiver();
    const all = await receiver();
    const ep = await endpoint(p.auth, r.url, ['order.placed', 'order.failed']);
    const epAll = await endpoint(p.auth, all.url, ['*']);
    r.trust(ep.secret);
    all.trust(epAll.secret);
    await record(p.id, 'session.started');
    await record(p.id, 'order.placed', { orderId: 'o1' });
    await record(p.id, 'product.deleted');
    await record(p.id, 'order.failed', { orderId: 'o2' });
    await all.waitFor((x) => x.accepted.length === 4);
    await r.waitFor((x) => x.accepted.length === 2);
    await new Promise((x) => setTimeout(x, 500));
    expect(r.accepted.map((x) => x.payload?.type)).toEqual(['order.placed', 'order.failed']);
    expect(r.received).toHaveLength(2);
    expect(await deliveries(p.auth, ep.id)).toHaveLength(2);

    // Changing the filter applies to later events.
    await t
      .http()
      .patch(`/v1/webhook-endpoints/${ep.id}`)
      .set(p.auth)
      .send({ events: ['product.deleted'] })
      .expect(200)
      .expect((x) => expect(x.body.events).toEqual(['product.deleted']));
    await record(p.id, 'order.placed');
    await record(p.id, 'product.deleted');
    await r.waitFor((x) => x.accepted.length === 3);
    expect(r.accepted[2].payload?.type).toBe('product.deleted');
    await waitUntil(
      async () => (await deliveries(p.auth, ep.id, '?status=delivered')).length === 3,
      '3 delivered',
    );
    const delivered = await deliveries(p.auth, ep.id, '?status=delivered');
    // (Deliveries relayed in one pass may share a creation time: compare as sets.)
    expect(delivered.map((d) => d.eventType).sort()).toEqual([
      'order.failed',
      'order.placed',
      'product.deleted',
    ]);
    expect(await deliveries(p.auth, ep.id, '?status=failed')).toEqual([]);
  });

  it("scopes endpoints and events to their partner: another partner's id is 404", async () => {
    const a = await partner('A');
    const b = await partner('B');
    const ra = await receiver();
    const rb = await receiver();
    const epA = await endpoint(a.auth, ra.url);
    const epB = await endpoint(b.auth, rb.url);
    ra.trust(epA.secret);
    rb.trust(epB.secret);
    await record(a.id, 'session.started');
    await ra.waitFor((x) => x.accepted.length === 1);
    await new Promise((x) => setTimeout(x, 500));
    expect(rb.received).toHaveLength(0);

    const [d] = await deliveries(a.auth, epA.id);
    const base = `/v1/webhook-endpoints/${epA.id}`;
    const notFound = [
      t.http().get(base),
      t.http().patch(base).send({ enabled: false }),
      t.http().delete(base),
      t.http().post(`${base}/secret`),
      t.http().get(`${base}/deliveries`),
      t.http().get(`${base}/deliveries/${d.id as string}`),
      t.http().post(`${base}/deliveries/${d.id as string}/retry`),
      // B's own endpoint, A's delivery
      t.http().get(`/v1/webhook-endpoints/${epB.id}/deliveries/${d.id as string}`),
      t.http().post(`/v1/webhook-endpoints/${epB.id}/deliveries/${d.id as string}/retry`),
      t.http().get('/v1/webhook-endpoints/not-a-uuid'),
    ];
    for (const req of notFound) {
      const res = await req.set(b.auth);
      expect(res.status).toBe(404);
      expect(res.body.error).toBe('NOT_FOUND');
    }
    const listB = await t.http().get('/v1/webhook-endpoints').set(b.auth).expect(200);
    expect(listB.body.data.map((e: { id: string }) => e.id)).toEqual([epB.id]);
    const still = await t.http().get(base).set(a.auth).expect(200);
    expect(still.body.enabled).toBe(true);
    await t.http().get('/v1/webhook-endpoints').expect(401);
  });

  it('answers 400 VALIDATION_FAILED naming the field, writing nothing', async () => {
    const p = await partner();
    const ep = await endpoint(p.auth, 'http://127.0.0.1:9/hook');
    const snapshot = async () =>
      JSON.stringify(await db.query('SELECT * FROM webhook_endpoints ORDER BY id'));
    const before = await snapshot();
    const cases: Array<[string, 'post' | 'patch', string, unknown, string]> = [
      ['missing url', 'post', '', { events: ['*'] }, 'url'],
      ['url not a string', 'post', '', { url: 42, events: ['*'] }, 'url'],
      ['url not a URL', 'post', '', { url: 'not a url', events: ['*'] }, 'url'],
      ['url with a bad scheme', 'post', '', { url: 'ftp://127.0.0.1/x', events: ['*'] }, 'url'],
      ['url with credentials', 'post', '', { url: 'http://u:p@127.0.0.1/x', events: ['*'] }, 'url'],
      ['missing events', 'post', '', { url: 'http://127.0.0.1/x' }, 'events'],
      ['empty events', 'post', '', { url: 'http://127.0.0.1/x', events: [] }, 'events'],
      ['unknown event', 'post', '', { url: 'http://127.0.0.1/x', events: ['nope'] }, 'events'],
      ['events not an array', 'post', '', { url: 'http://127.0.0.1/x', events: '*' }, 'events'],
      [
        'a client-chosen secret',
        'post',
        '',
        { url: 'http://127.0.0.1/x', events: ['*'], secret: 'whsec_x' },
        'secret',
      ],
      ['enabled not a boolean', 'patch', `/${ep.id}`, { enabled: 'yes' }, 'enabled'],
      ['a bad url on update', 'patch', `/${ep.id}`, { url: 'gopher://x' }, 'url'],
      ['unknown field on update', 'patch', `/${ep.id}`, { partnerId: p.id }, 'partnerId'],
    ];
    for (const [name, method, path, body, field] of cases) {
      const res = await t
        .http()
        [method](`/v1/webhook-endpoints${path}`)
        .set(p.auth)
        .send(body as object);
      expect({ name, status: res.status, error: res.body.error }).toEqual({
        name,
        status: 400,
        error: 'VALIDATION_FAILED',
      });
      expect(res.body.details.map((d: { field: string }) => d.field)).toContain(field);
    }
    const badQuery = await t
      .http()
      .get(`/v1/webhook-endpoints/${ep.id}/deliveries?status=lost`)
      .set(p.auth)
      .expect(400);
    expect(badQuery.body.details[0].field).toBe('status');
    expect(await snapshot()).toBe(before);
  });

  it('relays each event once when several relays run at the same time', async () => {
    const p = await partner();
    const r = await receiver();
    const ep = await endpoint(p.auth, r.url, ['product.updated']);
    r.trust(ep.secret);
    await db.query(
      `INSERT INTO outbox_events (partner_id, type, data)
       SELECT $1, 'product.updated', jsonb_build_object('n', n) FROM generate_series(1, 300) n`,
      [p.id],
    );
    // The app's own relay is running too: four more passes race it for the same rows.
    const relay = t.app.get(OutboxRelay, { strict: false });
    await Promise.all([1, 2, 3, 4].map(() => relay.relayOnce()));
    await r.waitFor((x) => x.accepted.length >= 300, { timeoutMs: 30_000, what: '300 accepted' });
    await new Promise((x) => setTimeout(x, 500));
    expect(r.received).toHaveLength(300);
    expect(new Set(r.received.map((x) => x.webhookId)).size).toBe(300);
    expect(new Set(r.received.map((x) => x.payload?.data.n)).size).toBe(300);
    const [{ count }] = await db.query(
      'SELECT count(*)::int AS count FROM webhook_deliveries WHERE endpoint_id = $1',
      [ep.id],
    );
    expect(count).toBe(300);
  });

  it('never double-sends a delivery whose job is added again (relay crash, sweeper)', async () => {
    const p = await partner();
    const r = await receiver();
    const ep = await endpoint(p.auth, r.url);
    r.trust(ep.secret);
    // What a relay that died after its commit, before adding the job, leaves behind.
    const [event] = await db.query(
      `INSERT INTO outbox_events (partner_id, type, data, dispatched_at)
       VALUES ($1, 'store_connection.linked', '{"storeConnectionId":"sc1"}', now()) RETURNING id`,
      [p.id],
    );
    const [row] = await db.query(
      `INSERT INTO webhook_deliveries (endpoint_id, event_id, event_type, updated_at)
       VALUES ($1, $2, 'store_connection.linked', now() - interval '1 minute') RETURNING id`,
      [ep.id, event.id],
    );
    const svc = t.app.get(WebhookDeliveriesService);
    expect(await svc.sweepUnenqueued(0)).toBe(1);
    await svc.enqueue(row.id, 0); // and again, as a second sweeper or relay would
    await db.query('UPDATE webhook_deliveries SET enqueued_at = NULL WHERE id = $1', [row.id]);
    await svc.sweepUnenqueued(0);
    await r.waitFor((x) => x.accepted.length === 1);
    await new Promise((x) => setTimeout(x, 800));
    expect(r.received.map((x) => x.webhookId)).toEqual([row.id]);
    expect(r.accepted[0].payload).toMatchObject({
      id: event.id,
      type: 'store_connection.linked',
      data: { storeConnectionId: 'sc1' },
    });
  });

  it('keeps secrets out of responses, job payloads and the delivery log', async () => {
    const p = await partner();
    const r = await receiver();
    const ep = await endpoint(p.auth, r.url);
    r.trust(ep.secret).failNext(1, 500);
    await record(p.id, 'session.product_pinned', { productId: 'x' });
    await r.waitFor((x) => x.accepted.length === 1);

    const reads = [
      await t.http().get('/v1/webhook-endpoints').set(p.auth),
      await t.http().get(`/v1/webhook-endpoints/${ep.id}`).set(p.auth),
      await t
        .http()
        .patch(`/v1/webhook-endpoints/${ep.id}`)
        .set(p.auth)
        .send({ events: ['*'] }),
      await t.http().get(`/v1/webhook-endpoints/${ep.id}/deliveries`).set(p.auth),
    ];
    const [d] = reads[3].body.data as Array<{ id: string }>;
    reads.push(
      await t.http().get(`/v1/webhook-endpoints/${ep.id}/deliveries/${d.id}`).set(p.auth),
      await t.http().post('/v1/webhook-endpoints').set(p.auth).send({ url: ep.secret }),
    );
    const bare = (s: string) => s.slice('whsec_'.length);
    for (const res of reads) {
      expect(res.status).toBeLessThan(500);
      const text = JSON.stringify(res.body);
      for (const s of secretsSeen) {
        expect(text).not.toContain(s);
        expect(text).not.toContain(bare(s));
      }
      expect(text).not.toContain('secret"');
    }
    expect(await db.query('SELECT secret_sealed FROM webhook_endpoints')).not.toContainEqual(
      expect.objectContaining({ secret_sealed: expect.stringContaining(bare(ep.secret)) }),
    );

    // Every key BullMQ keeps for this app: job data is a delivery id and nothing else.
    const queue = t.app.get<Queue>(getQueueToken(QueueName.Webhooks));
    const jobs = await queue.getJobs(['completed', 'failed', 'delayed', 'wait', 'active']);
    expect(jobs.length).toBeGreaterThan(0);
    for (const job of jobs) expect(Object.keys(job.data as object)).toEqual(['deliveryId']);
    const { default: Redis } = await import('ioredis');
    const redis = new Redis(REDIS_URL);
    try {
      let cursor = '0';
      let dump = '';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${t.config.queuePrefix}:*`);
        cursor = next;
        for (const key of keys) {
          const type = await redis.type(key);
          if (type === 'hash') dump += JSON.stringify(await redis.hgetall(key));
          else if (type === 'string') dump += (await redis.get(key)) ?? '';
          else if (type === 'list') dump += JSON.stringify(await redis.lrange(key, 0, -1));
          else if (type === 'zset') dump += JSON.stringify(await redis.zrange(key, 0, -1));
          else if (type === 'stream') dump += JSON.stringify(await redis.xrange(key, '-', '+'));
        }
      } while (cursor !== '0');
      expect(dump).toContain(d.id);
      for (const s of secretsSeen) expect(dump).not.toContain(bare(s));
    } finally {
      redis.disconnect();
    }
  });

  it('documents the routes in OpenAPI', async () => {
    const res = await t.http().get('/docs-json').expect(200);
    const paths = Object.keys(res.body.paths);
    for (const path of [
      '/v1/webhook-endpoints',
      '/v1/webhook-endpoints/{id}',
      '/v1/webhook-endpoints/{id}/secret',
      '/v1/webhook-endpoints/{id}/deliveries',
      '/v1/webhook-endpoints/{id}/deliveries/{deliveryId}/retry',
    ]) {
      expect(paths).toContain(path);
    }
    expect(res.body.components.schemas.CreateWebhookEndpointDto.required).toEqual([
      'url',
      'events',
    ]);
  });

  it('deletes an endpoint', async () => {
    const p = await partner();
    const ep = await endpoint(p.auth, 'http://127.0.0.1:9/gone');
    await t.http().delete(`/v1/webhook-endpoints/${ep.id}`).set(p.auth).expect(204);
    await t.http().get(`/v1/webhook-endpoints/${ep.id}`).set(p.auth).expect(404);
  });
});

describe('webhook endpoint URLs with EGRESS_ALLOW_PRIVATE_NETWORKS=false', () => {
  let t: TestApp;
  let auth: Record<string, string>;
  beforeAll(async () => {
    t = await startTestApp({ ROLES: 'api', EGRESS_ALLOW_PRIVATE_NETWORKS: 'false' });
    auth = { authorization: `Bearer ${(await createPartner(t)).apiKey}` };
  });
  afterAll(() => t.close());

  it.each([
    'https://127.0.0.1/hook',
    'https://localhost:8443/hook',
    'https://10.1.2.3/hook',
    'https://192.168.0.10/hook',
    'https://169.254.169.254/latest/meta-data',
    'https://[::1]/hook',
    'https://[fd00::1]/hook',
  ])('refuses %s with 400 on url, storing nothing', async (url) => {
    const res = await t
      .http()
      .post('/v1/webhook-endpoints')
      .set(auth)
      .send({ url, events: ['*'] });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('VALIDATION_FAILED');
    expect(res.body.details).toEqual([{ field: 'url', message: expect.stringMatching(/address/) }]);
    const list = await t.http().get('/v1/webhook-endpoints').set(auth).expect(200);
    expect(list.body.data).toEqual([]);
  });

  it('refuses plain http', async () => {
    const res = await t
      .http()
      .post('/v1/webhook-endpoints')
      .set(auth)
      .send({ url: 'http://203.0.113.7/hook', events: ['*'] });
    expect(res.status).toBe(400);
    // The refusal names the setting that would allow it.
    expect(res.body.details).toEqual([
      {
        field: 'url',
        message:
          'scheme must be https (plain http only with EGRESS_ALLOW_PRIVATE_NETWORKS=true, for development)',
      },
    ]);
  });
});

describe('outbox pruning and outbound webhooks', () => {
  let t: TestApp;
  let db: DataSource;
  // api role only: no relay runs, so an undispatched row stays undispatched.
  beforeAll(async () => {
    t = await startTestApp({ ROLES: 'api' });
    db = t.app.get(getDataSourceToken());
  });
  afterAll(() => t.close());

  it('never prunes a row not yet relayed, or one whose delivery is pending', async () => {
    const { id: partnerId } = await createPartner(t);
    const [ep] = await db.query(
      `INSERT INTO webhook_endpoints (id, partner_id, url, events, secret_key_id, secret_sealed)
       VALUES (gen_random_uuid(), $1, 'https://partner.example/h', '{*}', 'k', 'x') RETURNING id`,
      [partnerId],
    );
    const event = async (dispatched: string | null) => {
      const [row] = await db.query(
        `INSERT INTO outbox_events (partner_id, type, data, created_at, dispatched_at)
         VALUES ($1, 'product.created', '{}', now() - interval '100 days', ${dispatched ?? 'NULL'})
         RETURNING id`,
        [partnerId],
      );
      return row.id as string;
    };
    const old = "now() - interval '90 days'";
    const notRelayed = await event(null);
    const pending = await event(old);
    const delivered = await event(old);
    await event(old); // dispatched long ago, no delivery: pruned
    const recent = await event("now() - interval '1 day'");
    await db.query(
      `INSERT INTO webhook_deliveries (endpoint_id, event_id, event_type, status) VALUES
         ($1, $2, 'product.created', 'pending'), ($1, $3, 'product.created', 'delivered')`,
      [ep.id, pending, delivered],
    );

    const processor = new MaintenanceProcessor(db);
    const result = await processor.process({
      name: 'maintenance.prune-outbox',
      data: { olderThanDays: 30 },
    } as Job);
    expect(result).toEqual({ deleted: 2 });
    const left = (await db.query('SELECT id FROM outbox_events')).map((x: { id: string }) => x.id);
    expect(left.sort()).toEqual([notRelayed, pending, recent].sort());
    // The finished delivery log went with its event; the pending delivery is still there.
    const deliveries = await db.query('SELECT event_id, status FROM webhook_deliveries');
    expect(deliveries).toEqual([{ event_id: pending, status: 'pending' }]);
  });
});
