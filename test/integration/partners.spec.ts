import { createHash } from 'node:crypto';
import { getDataSourceToken } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { createPartner, startTestApp, TestApp } from '../support/test-app';
import { TEST_ADMIN_TOKEN } from '../support/test-env';

describe('partners and API keys (HTTP)', () => {
  let t: TestApp;
  let db: DataSource;
  const admin = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };

  beforeAll(async () => {
    t = await startTestApp({ ROLES: 'api' });
    db = t.app.get(getDataSourceToken());
  });
  afterAll(() => t.close());

  const count = async (table: string) =>
    (await db.query(`SELECT count(*)::int AS n FROM ${table}`))[0].n as number;

  it('creates a partner and shows its API key once, stored only as a hash', async () => {
    const res = await t
      .http()
      .post('/v1/admin/partners')
      .set(admin)
      .send({ name: 'Shoply' })
      .expect(201);
    expect(res.body).toEqual({
      id: expect.any(String),
      name: 'Shoply',
      apiKey: expect.stringMatching(/^cbk_/),
    });
    // The whole row: the SHA-256 of the key (computed here, not by the code under test),
    // the key's public lookup part, and no other column.
    const apiKey: string = res.body.apiKey;
    const lookup = /^cbk_([0-9a-f]{16})_/.exec(apiKey)?.[1];
    expect(lookup).toBeDefined();
    const rows: Array<Record<string, unknown>> = await db.query(
      'SELECT * FROM api_keys WHERE partner_id = $1',
      [res.body.id],
    );
    expect(rows).toEqual([
      {
        id: expect.any(String),
        partner_id: res.body.id,
        lookup,
        key_hash: createHash('sha256').update(apiKey, 'utf8').digest(),
        created_at: expect.any(Date),
        last_used_at: null,
      },
    ]);
    const keys = await t
      .http()
      .get(`/v1/admin/partners/${res.body.id}/api-keys`)
      .set(admin)
      .expect(200);
    expect(JSON.stringify(keys.body)).not.toContain(res.body.apiKey);
    expect(keys.body.data[0].prefix).toBe(res.body.apiKey.slice(0, 20));
  });

  it('refuses admin calls without or with a wrong token, writing nothing', async () => {
    const before = await count('partners');
    const none = await t.http().post('/v1/admin/partners').send({ name: 'x' }).expect(401);
    expect(none.body).toMatchObject({
      statusCode: 401,
      error: 'UNAUTHORIZED',
      requestId: expect.any(String),
    });
    await t
      .http()
      .post('/v1/admin/partners')
      .set({ authorization: 'Bearer nope' })
      .send({ name: 'x' })
      .expect(401);
    await t
      .http()
      .post('/v1/admin/partners')
      .set({ authorization: 'Basic abc' })
      .send({ name: 'x' })
      .expect(401);
    expect(await count('partners')).toBe(before);
  });

  it('keeps older keys working after adding one, until deleted', async () => {
    const p = await createPartner(t, 'Rotator');
    const second = await t
      .http()
      .post(`/v1/admin/partners/${p.id}/api-keys`)
      .set(admin)
      .expect(201);
    expect(second.body).toEqual({ id: expect.any(String), apiKey: expect.stringMatching(/^cbk_/) });
    for (const key of [p.apiKey, second.body.apiKey]) {
      await t
        .http()
        .get('/v1/partner')
        .set({ authorization: `Bearer ${key}` })
        .expect(200);
    }
    const list = await t.http().get(`/v1/admin/partners/${p.id}/api-keys`).set(admin).expect(200);
    const first = list.body.data.find((k: { id: string }) => k.id !== second.body.id);
    await t.http().delete(`/v1/admin/partners/${p.id}/api-keys/${first.id}`).set(admin).expect(204);
    await t
      .http()
      .get('/v1/partner')
      .set({ authorization: `Bearer ${p.apiKey}` })
      .expect(401);
    await t
      .http()
      .get('/v1/partner')
      .set({ authorization: `Bearer ${second.body.apiKey}` })
      .expect(200);
  });

  it('answers 404 for keys of an unknown partner', async () => {
    await t
      .http()
      .post('/v1/admin/partners/00000000-0000-4000-8000-000000000000/api-keys')
      .set(admin)
      .expect(404);
    await t.http().post('/v1/admin/partners/not-a-uuid/api-keys').set(admin).expect(404);
  });

  it('refuses partner routes with a missing, malformed or forged key', async () => {
    await t.http().get('/v1/channels').expect(401);
    await t.http().get('/v1/channels').set({ authorization: 'Bearer cbk_123' }).expect(401);
    const p = await createPartner(t, 'Forger');
    const forged = p.apiKey.slice(0, -2) + (p.apiKey.endsWith('AA') ? 'BB' : 'AA');
    const res = await t
      .http()
      .get('/v1/channels')
      .set({ authorization: `Bearer ${forged}` })
      .expect(401);
    expect(res.body.message).not.toContain(forged);
  });

  it('lets a partner set the origins its store returnUrls may use', async () => {
    const p = await createPartner(t, 'Origins');
    const auth = { authorization: `Bearer ${p.apiKey}` };
    const res = await t
      .http()
      .patch('/v1/partner')
      .set(auth)
      .send({ allowedReturnOrigins: ['https://brand.example.com'] })
      .expect(200);
    expect(res.body.allowedReturnOrigins).toEqual(['https://brand.example.com']);
    const bad = await t
      .http()
      .patch('/v1/partner')
      .set(auth)
      .send({ allowedReturnOrigins: ['https://brand.example.com/path'] })
      .expect(400);
    expect(bad.body.details[0].field).toBe('allowedReturnOrigins');
  });
});

describe('admin API without ADMIN_TOKEN', () => {
  it('is off', async () => {
    const t = await startTestApp({ ROLES: 'api', ADMIN_TOKEN: '' });
    try {
      await t
        .http()
        .post('/v1/admin/partners')
        .set({ authorization: 'Bearer anything' })
        .send({ name: 'x' })
        .expect(404);
    } finally {
      await t.close();
    }
  });
});
