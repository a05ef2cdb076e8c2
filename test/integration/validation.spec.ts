import { getDataSourceToken } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { createPartner, startTestApp, TestApp } from '../support/test-app';
import { TEST_ADMIN_TOKEN } from '../support/test-env';

describe('bad input (HTTP)', () => {
  let t: TestApp;
  let db: DataSource;
  let auth: Record<string, string>;
  let channelId: string;

  beforeAll(async () => {
    t = await startTestApp({ ROLES: 'api' });
    db = t.app.get(getDataSourceToken());
    auth = { authorization: `Bearer ${(await createPartner(t)).apiKey}` };
    channelId = (await t.http().post('/v1/channels').set(auth).send({ name: 'keep' }).expect(201))
      .body.id;
  });
  afterAll(() => t.close());

  const snapshot = async () =>
    JSON.stringify(
      await db.query('SELECT id, name, brand_id, stream_key_hash FROM channels ORDER BY id'),
    );

  const cases: Array<
    [string, () => { method: 'post' | 'patch'; path: string; body: string | object }, string]
  > = [
    ['malformed JSON', () => ({ method: 'post', path: '/v1/channels', body: '{"name": ' }), 'body'],
    [
      'an unknown field',
      () => ({ method: 'post', path: '/v1/channels', body: { name: 'x', admin: true } }),
      'admin',
    ],
    ['a wrong type', () => ({ method: 'post', path: '/v1/channels', body: { name: 42 } }), 'name'],
    ['a missing field', () => ({ method: 'post', path: '/v1/channels', body: {} }), 'name'],
    [
      'an over-long string',
      () => ({ method: 'post', path: '/v1/channels', body: { name: 'x'.repeat(201) } }),
      'name',
    ],
    [
      'an empty string',
      () => ({ method: 'post', path: '/v1/channels', body: { name: '' } }),
      'name',
    ],
    [
      'a bad uuid',
      () => ({ method: 'post', path: '/v1/channels', body: { name: 'x', brandId: 'abc' } }),
      'brandId',
    ],
    ['a JSON array body', () => ({ method: 'post', path: '/v1/channels', body: '[1,2]' }), ''],
    [
      'a wrong type on update',
      () => ({ method: 'patch', path: `/v1/channels/${channelId}`, body: { name: ['a'] } }),
      'name',
    ],
    [
      'an unknown field on update',
      () => ({ method: 'patch', path: `/v1/channels/${channelId}`, body: { streamKeyHash: 'x' } }),
      'streamKeyHash',
    ],
  ];

  it.each(cases)(
    'answers 400 VALIDATION_FAILED for %s, naming the field, writing nothing',
    async (_, make, field) => {
      const { method, path, body } = make();
      const before = await snapshot();
      const req = t.http()[method](path).set(auth).set('content-type', 'application/json');
      const res = await req
        .send(typeof body === 'string' ? body : JSON.stringify(body))
        .expect(400);
      expect(res.body).toMatchObject({
        statusCode: 400,
        error: 'VALIDATION_FAILED',
        message: expect.any(String),
        requestId: expect.any(String),
      });
      expect(res.headers['x-request-id']).toBe(res.body.requestId);
      if (field) {
        expect(res.body.details.map((d: { field: string }) => d.field)).toContain(field);
        expect(res.body.message).toContain(field);
      }
      expect(await snapshot()).toBe(before);
    },
  );

  it('refuses bad query parameters with the parameter named', async () => {
    const res = await t.http().get('/v1/channels?limit=1000').set(auth).expect(400);
    expect(res.body.details[0].field).toBe('limit');
    const cur = await t.http().get('/v1/channels?cursor=bogus').set(auth).expect(400);
    expect(cur.body.details[0].field).toBe('cursor');
    const unknown = await t.http().get('/v1/channels?sort=name').set(auth).expect(400);
    expect(unknown.body.details[0].field).toBe('sort');
  });

  it('answers 413 for a body over 1 MB', async () => {
    const res = await t
      .http()
      .post('/v1/channels')
      .set(auth)
      .send({ name: 'x'.repeat(1024 * 1024 + 10) })
      .expect(413);
    expect(res.body).toMatchObject({
      error: 'PAYLOAD_TOO_LARGE',
      message: 'body: request body is too large',
      details: [{ field: 'body', message: 'request body is too large' }],
    });
  });

  it('validates admin bodies too', async () => {
    const res = await t
      .http()
      .post('/v1/admin/partners')
      .set({ authorization: `Bearer ${TEST_ADMIN_TOKEN}` })
      .send({ name: 'x', apiKey: 'mine' })
      .expect(400);
    expect(res.body.details[0].field).toBe('apiKey');
  });

  it('keeps an incoming x-request-id and makes one otherwise', async () => {
    const kept = await t
      .http()
      .get('/v1/channels')
      .set(auth)
      .set('x-request-id', 'trace-123')
      .expect(200);
    expect(kept.headers['x-request-id']).toBe('trace-123');
    const made = await t.http().get('/v1/nothing-here').set(auth).expect(404);
    expect(made.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(made.body).toMatchObject({
      error: 'NOT_FOUND',
      requestId: made.headers['x-request-id'],
    });
  });

  it('serves an OpenAPI document that agrees with the routes', async () => {
    const res = await t.http().get('/docs-json').expect(200);
    const paths = Object.keys(res.body.paths);
    for (const p of [
      '/v1/admin/partners',
      '/v1/admin/partners/{id}/api-keys',
      '/v1/channels',
      '/v1/channels/{id}',
      '/v1/channels/{id}/stream-key',
      '/v1/brands',
      '/health/ready',
    ]) {
      expect(paths).toContain(p);
    }
    expect(res.body.components.schemas.CreateChannelDto.properties.name.maxLength).toBe(200);
    await t.http().get('/docs').expect(200);
  });
});
