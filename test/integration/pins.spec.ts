import { CommerceFixture, linkStore, startCommerce, waitForImport } from '../support/commerce';
import { publishTestPattern, Publisher, stopAllMedia } from '../support/media';
import { waitFor } from '../support/processes';
import { createPartner } from '../support/test-app';

jest.setTimeout(90_000);

/** Pins during a live session: rules of API.md, events, and the session view. */
describe('pins', () => {
  let f: CommerceFixture;
  let publisher: Publisher | null = null;
  let sessionId = '';
  let productId = '';
  let channelId = '';

  beforeAll(async () => {
    f = await startCommerce({ products: 2 });
    const linked = await linkStore(f);
    await waitForImport(f, linked.connectionId);
    const products = await f.t.http().get(`/v1/brands/${f.brandId}/products`).set(f.auth);
    productId = (products.body.data as Array<{ id: string }>)[0]!.id;
    const channel = await f.t
      .http()
      .post('/v1/channels')
      .set(f.auth)
      .send({ name: 'Pins', brandId: f.brandId })
      .expect(201);
    channelId = channel.body.id as string;
    publisher = publishTestPattern(
      `rtmp://127.0.0.1:${f.t.config.rtmp.port}/live/${channel.body.ingest.streamKey}`,
    );
    sessionId = await waitFor(
      async () =>
        (await f.t.http().get(`/v1/channels/${channelId}`).set(f.auth)).body.currentSessionId as
          string | null,
      { what: 'live session' },
    );
  });

  afterAll(async () => {
    await publisher?.stop();
    await stopAllMedia();
    await f?.close();
  });

  async function events(type: string): Promise<Array<Record<string, unknown>>> {
    const { getDataSourceToken } = await import('@nestjs/typeorm');
    const db = f.t.app.get<import('typeorm').DataSource>(getDataSourceToken());
    const rows = (await db.query(`SELECT data FROM outbox_events WHERE type = $1`, [
      type,
    ])) as Array<{
      data: Record<string, unknown>;
    }>;
    return rows.map((r) => r.data);
  }

  it('pins a product of the brand once, shows it on the session, emits the events', async () => {
    const first = await f.t
      .http()
      .post(`/v1/sessions/${sessionId}/pins`)
      .set(f.auth)
      .send({ productId })
      .expect(201);
    expect(first.body).toEqual({ productId, pinnedAt: expect.any(String) });
    const again = await f.t
      .http()
      .post(`/v1/sessions/${sessionId}/pins`)
      .set(f.auth)
      .send({ productId })
      .expect(201);
    expect(again.body.pinnedAt).toBe(first.body.pinnedAt);

    const session = await f.t.http().get(`/v1/sessions/${sessionId}`).set(f.auth).expect(200);
    expect(session.body.pins).toEqual([{ productId, pinnedAt: first.body.pinnedAt }]);
    expect(await events('session.product_pinned')).toEqual([
      { sessionId, productId, pinnedAt: first.body.pinnedAt },
    ]);

    await f.t.http().delete(`/v1/sessions/${sessionId}/pins/${productId}`).set(f.auth).expect(204);
    await f.t.http().delete(`/v1/sessions/${sessionId}/pins/${productId}`).set(f.auth).expect(404);
    expect(await events('session.product_unpinned')).toEqual([{ sessionId, productId }]);
    expect((await f.t.http().get(`/v1/sessions/${sessionId}`).set(f.auth)).body.pins).toEqual([]);
  });

  it('refuses bad input, foreign products and other partners, changing nothing', async () => {
    const bad = await f.t
      .http()
      .post(`/v1/sessions/${sessionId}/pins`)
      .set(f.auth)
      .send({ productId: 'nope' })
      .expect(400);
    expect(bad.body.error).toBe('VALIDATION_FAILED');
    expect(JSON.stringify(bad.body.details)).toContain('productId');
    await f.t
      .http()
      .post(`/v1/sessions/${sessionId}/pins`)
      .set(f.auth)
      .send({ productId, extra: 1 })
      .expect(400);
    const foreign = await f.t
      .http()
      .post(`/v1/sessions/${sessionId}/pins`)
      .set(f.auth)
      .send({ productId: '00000000-0000-4000-8000-000000000000' })
      .expect(400);
    expect(JSON.stringify(foreign.body.details)).toContain('productId');

    const other = await createPartner(f.t, 'Other');
    await f.t
      .http()
      .post(`/v1/sessions/${sessionId}/pins`)
      .set({ authorization: `Bearer ${other.apiKey}` })
      .send({ productId })
      .expect(404);
    expect((await f.t.http().get(`/v1/sessions/${sessionId}`).set(f.auth)).body.pins).toEqual([]);
  });

  it('pins only while the session is live', async () => {
    await publisher?.stop();
    publisher = null;
    await waitFor(
      async () =>
        (await f.t.http().get(`/v1/sessions/${sessionId}`).set(f.auth)).body.status === 'ended',
      { what: 'session ended' },
    );
    const res = await f.t
      .http()
      .post(`/v1/sessions/${sessionId}/pins`)
      .set(f.auth)
      .send({ productId })
      .expect(409);
    expect(res.body.error).toBe('CONFLICT');
  });
});
