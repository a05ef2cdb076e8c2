import { getDataSourceToken } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { createPartner, startTestApp, TestApp } from '../support/test-app';
import { TEST_ADMIN_TOKEN } from '../support/test-env';

/**
 * Text Postgres cannot store (U+0000; a lone surrogate in jsonb) answers 400 naming the
 * field, on every route, and nothing is written. JSON bodies are sent as raw text: the
 * escapes `\u0000` and `\ud800` are what a client's JSON carries.
 */
describe('text Postgres cannot store', () => {
  let t: TestApp;
  let db: DataSource;
  let auth: Record<string, string>;
  let channelId: string;
  let brandId: string;

  beforeAll(async () => {
    t = await startTestApp({ ROLES: 'api' });
    db = t.app.get(getDataSourceToken());
    auth = { authorization: `Bearer ${(await createPartner(t)).apiKey}` };
    channelId = (await t.http().post('/v1/channels').set(auth).send({ name: 'keep' }).expect(201))
      .body.id;
    brandId = (await t.http().post('/v1/brands').set(auth).send({ name: 'b' }).expect(201)).body.id;
  });
  afterAll(() => t.close());

  const snapshot = async () =>
    JSON.stringify(
      await db.query(`SELECT
        (SELECT json_agg(c ORDER BY id) FROM (SELECT id, name, brand_id FROM channels) c) AS channels,
        (SELECT count(*) FROM destinations) AS destinations,
        (SELECT count(*) FROM brands) AS brands,
        (SELECT count(*) FROM partners) AS partners,
        (SELECT count(*) FROM webhook_endpoints) AS endpoints,
        (SELECT count(*) FROM orders) AS orders`),
    );

  const cases: Array<
    [string, () => { method: 'post' | 'patch'; path: string; raw: string }, string[]]
  > = [
    [
      'NUL in a channel name',
      () => ({ method: 'post', path: '/v1/channels', raw: '{"name":"a\\u0000b"}' }),
      ['name'],
    ],
    [
      'a lone high surrogate',
      () => ({ method: 'post', path: '/v1/channels', raw: '{"name":"a\\ud800"}' }),
      ['name'],
    ],
    [
      'a lone low surrogate',
      () => ({ method: 'post', path: '/v1/brands', raw: '{"name":"\\udfff"}' }),
      ['name'],
    ],
    [
      'NUL on PATCH',
      () => ({ method: 'patch', path: `/v1/channels/${channelId}`, raw: '{"name":"\\u0000"}' }),
      ['name'],
    ],
    [
      'NUL in a destination (jsonb profile key and stream key)',
      () => ({
        method: 'post',
        path: `/v1/channels/${channelId}/destinations`,
        raw: '{"name":"d","kind":"social_platform","url":"rtmp://127.0.0.1/live","streamKey":"k\\u0000","profile":{"fps\\u0000":30}}',
      }),
      ['streamKey', 'profile'],
    ],
    [
      'nested fields of an order',
      () => ({
        method: 'post',
        path: '/v1/orders',
        raw: JSON.stringify({
          externalId: 'o-1',
          brandId,
          lineItems: [{ variantId: '00000000-0000-4000-8000-000000000000', quantity: 1 }],
          customer: { email: 'a@b.co', shippingAddress: { address1: 'x', city: 'PLACEHOLDER' } },
        }).replace('PLACEHOLDER', '\\u0000'),
      }),
      ['customer.shippingAddress.city'],
    ],
    [
      'an array element of webhook events',
      () => ({
        method: 'post',
        path: '/v1/webhook-endpoints',
        raw: '{"url":"https://x.example","events":["*","\\u0000"]}',
      }),
      ['events[1]'],
    ],
    [
      'an unknown field (it must not reach the pipe’s message either)',
      () => ({ method: 'post', path: '/v1/channels', raw: '{"name":"ok","x":"\\u0000"}' }),
      ['x'],
    ],
  ];

  it.each(cases)(
    'answers 400 VALIDATION_FAILED for %s, naming the field, writing nothing',
    async (_, make, fields) => {
      const { method, path, raw } = make();
      const before = await snapshot();
      const res = await t
        .http()
        [method](path)
        .set(auth)
        .set('content-type', 'application/json')
        .send(raw);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({
        statusCode: 400,
        error: 'VALIDATION_FAILED',
        requestId: expect.any(String),
      });
      expect(res.body.details.map((d: { field: string }) => d.field)).toEqual(fields);
      expect(await snapshot()).toBe(before);
    },
  );

  it('checks admin bodies and urlencoded bodies the same way', async () => {
    const before = await snapshot();
    const admin = await t
      .http()
      .post('/v1/admin/partners')
      .set('authorization', `Bearer ${TEST_ADMIN_TOKEN}`)
      .set('content-type', 'application/json')
      .send('{"name":"\\u0000"}')
      .expect(400);
    expect(admin.body.details).toEqual([
      { field: 'name', message: 'must not contain U+0000 (NUL)' },
    ]);
    const form = await t
      .http()
      .post('/v1/channels')
      .set(auth)
      .set('content-type', 'application/x-www-form-urlencoded')
      .send('name=a%00b')
      .expect(400);
    expect(form.body.details[0].field).toBe('name');
    expect(await snapshot()).toBe(before);
  });

  it('checks query strings: catalog search, list cursors', async () => {
    const search = await t
      .http()
      .get(`/v1/brands/${brandId}/products?q=a%00b`)
      .set(auth)
      .expect(400);
    expect(search.body).toMatchObject({
      error: 'VALIDATION_FAILED',
      details: [{ field: 'q', message: 'must not contain U+0000 (NUL)' }],
    });
    const cursor = await t.http().get('/v1/channels?cursor=%00').set(auth).expect(400);
    expect(cursor.body.details[0].field).toBe('cursor');
    // The OAuth callback reads its query itself.
    const oauth = await t.http().get('/oauth/shopify/callback?shop=%00&state=x').expect(400);
    expect(oauth.body.details[0].field).toBe('shop');
  });

  it('checks path parameters', async () => {
    const res = await t.http().get('/v1/channels/a%00b').set(auth).expect(400);
    expect(res.body.details).toEqual([{ field: 'path', message: 'must not contain U+0000 (NUL)' }]);
  });

  it('still stores what Postgres can: emoji, accents, other control characters', async () => {
    const name = 'Live 🎥 café \t\u0001 end';
    const res = await t.http().post('/v1/channels').set(auth).send({ name }).expect(201);
    expect(res.body.name).toBe(name);
  });
});
