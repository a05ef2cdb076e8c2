import { getDataSourceToken } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { createPartner, startTestApp, TestApp } from '../support/test-app';

/** Caps per partner (API.md "Errors"): 409 LIMIT_REACHED naming the cap, nothing written. */
describe('caps per partner', () => {
  let t: TestApp;
  let db: DataSource;

  beforeAll(async () => {
    t = await startTestApp({
      ROLES: 'api',
      MAX_DESTINATIONS_PER_CHANNEL: '3',
      MAX_TRANSCODES_PER_PARTNER: '2',
    });
    db = t.app.get(getDataSourceToken());
  });
  afterAll(() => t.close());

  async function partner() {
    const auth = { authorization: `Bearer ${(await createPartner(t)).apiKey}` };
    const channel = async () =>
      (await t.http().post('/v1/channels').set(auth).send({ name: 'c' }).expect(201)).body
        .id as string;
    const create = (channelId: string, body: Record<string, unknown> = {}) =>
      t
        .http()
        .post(`/v1/channels/${channelId}/destinations`)
        .set(auth)
        .send({ name: 'd', kind: 'social_platform', url: 'rtmp://127.0.0.1/live', ...body });
    const patch = (channelId: string, id: string, body: Record<string, unknown>) =>
      t.http().patch(`/v1/channels/${channelId}/destinations/${id}`).set(auth).send(body);
    return { auth, channel, create, patch };
  }
  const count = async (where: string, ...params: unknown[]) =>
    Number((await db.query(`SELECT count(*) AS n FROM destinations WHERE ${where}`, params))[0].n);
  const transcode = { profile: { maxHeight: 720 } };

  it('caps destinations per channel (MAX_DESTINATIONS_PER_CHANNEL)', async () => {
    const p = await partner();
    const c = await p.channel();
    await p.create(c).expect(201);
    await p.create(c, { kind: 'brand_site', url: undefined }).expect(201);
    await p.create(c, { enabled: false }).expect(201);
    const res = await p.create(c).expect(409);
    expect(res.body).toMatchObject({
      statusCode: 409,
      error: 'LIMIT_REACHED',
      message:
        'destinationsPerChannel: a channel may have at most 3 destinations (MAX_DESTINATIONS_PER_CHANNEL on this server)',
      details: [
        {
          field: 'destinationsPerChannel',
          message:
            'a channel may have at most 3 destinations (MAX_DESTINATIONS_PER_CHANNEL on this server)',
        },
      ],
      requestId: expect.any(String),
    });
    expect(await count('channel_id = $1', c)).toBe(3);
    await p.create(await p.channel()).expect(201); // another channel has its own room
    // A deletion makes room again.
    const list = (await t.http().get(`/v1/channels/${c}/destinations`).set(p.auth).expect(200)).body
      .data;
    await t.http().delete(`/v1/channels/${c}/destinations/${list[0].id}`).set(p.auth).expect(204);
    await p.create(c).expect(201);
  });

  it('caps enabled transcoded destinations per partner, across its channels (MAX_TRANSCODES_PER_PARTNER)', async () => {
    const p = await partner();
    const [c1, c2] = [await p.channel(), await p.channel()];
    const first = (await p.create(c1, transcode).expect(201)).body.id as string;
    await p.create(c2, transcode).expect(201);
    // What does not count: passthrough, disabled, brand_site.
    const passthrough = (await p.create(c1).expect(201)).body.id as string;
    const disabled = (await p.create(c2, { ...transcode, enabled: false }).expect(201)).body
      .id as string;
    await p.create(c2, { kind: 'brand_site', url: undefined, ...transcode }).expect(201);

    const refused = await p.create(c1, { ...transcode, name: 'third' }).expect(409);
    expect(refused.body).toMatchObject({
      error: 'LIMIT_REACHED',
      details: [
        {
          field: 'transcodesPerPartner',
          message:
            'a partner may have at most 2 enabled transcoded destinations (MAX_TRANSCODES_PER_PARTNER on this server)',
        },
      ],
    });
    expect(await count("name = 'third'")).toBe(0);

    // PATCH that enables a transcoded one, or gives an enabled one a profile: refused, unchanged.
    const enable = await p.patch(c2, disabled, { enabled: true }).expect(409);
    expect(enable.body.details[0].field).toBe('transcodesPerPartner');
    expect(await count('id = $1 AND NOT enabled', disabled)).toBe(1);
    const addProfile = await p.patch(c1, passthrough, transcode).expect(409);
    expect(addProfile.body.error).toBe('LIMIT_REACHED');
    expect(await count('id = $1 AND profile IS NULL', passthrough)).toBe(1);

    // Changing one that already counts is fine; disabling one frees a slot.
    await p.patch(c1, first, { profile: { maxHeight: 480, fps: 30 } }).expect(200);
    await p.patch(c1, first, { enabled: false }).expect(200);
    await p.patch(c2, disabled, { enabled: true }).expect(200);
    await p.patch(c1, first, { enabled: true }).expect(409);
    // Back to passthrough frees one too.
    await p.patch(c2, disabled, { profile: 'passthrough' }).expect(200);
    await p.patch(c1, first, { enabled: true }).expect(200);

    // Another partner is not affected.
    const other = await partner();
    await other.create(await other.channel(), transcode).expect(201);
  });

  it('counts "auto" destinations as transcoded (whether they encode depends on the ingest)', async () => {
    const p = await partner();
    const c = await p.channel();
    const auto = { preset: 'tiktok', profile: 'auto' };
    await p.create(c, auto).expect(201);
    await p.create(c, { ...auto, preset: 'facebook' }).expect(201);
    const refused = await p.create(c, { ...auto, name: 'third' }).expect(409);
    expect(refused.body.details[0].field).toBe('transcodesPerPartner');
    // A platform preset with a passthrough profile runs no encoder: it does not count.
    const c2 = await p.channel(); // (3 destinations a channel here)
    await p.create(c2, { preset: 'youtube' }).expect(201);
    const plain = (await p.create(c2).expect(201)).body.id as string;
    expect(
      (await p.patch(c2, plain, { preset: 'twitch', profile: 'auto' }).expect(409)).body.error,
    ).toBe('LIMIT_REACHED');
    expect(await count("id = $1 AND preset = 'custom' AND profile IS NULL", plain)).toBe(1);
  });

  it('lets only as many concurrent creates pass as the caps allow', async () => {
    const p = await partner();
    const c = await p.channel();
    const transcodes = await Promise.all(
      Array.from({ length: 6 }, (_, i) => p.create(c, { ...transcode, name: `t${i}` })),
    );
    expect(transcodes.map((r) => r.status).sort()).toEqual([201, 201, 409, 409, 409, 409]);
    expect(await count('channel_id = $1 AND profile IS NOT NULL', c)).toBe(2);

    const c2 = await p.channel();
    const plain = await Promise.all(Array.from({ length: 6 }, () => p.create(c2)));
    expect(plain.map((r) => r.status).sort()).toEqual([201, 201, 201, 409, 409, 409]);
    expect(await count('channel_id = $1', c2)).toBe(3);

    // Concurrent PATCHes enabling two disabled transcoded destinations when no slot is free.
    const c3 = await p.channel();
    const d1 = (await p.create(c3, { ...transcode, enabled: false }).expect(201)).body.id as string;
    const d2 = (await p.create(c3, { ...transcode, enabled: false }).expect(201)).body.id as string;
    const enables = await Promise.all([
      p.patch(c3, d1, { enabled: true }),
      p.patch(c3, d2, { enabled: true }),
    ]);
    expect(enables.map((r) => r.status)).toEqual([409, 409]);
    const first = (await t.http().get(`/v1/channels/${c}/destinations`).set(p.auth).expect(200))
      .body.data[0];
    await p.patch(c, first.id, { enabled: false }).expect(200);
    const again = await Promise.all([
      p.patch(c3, d1, { enabled: true }),
      p.patch(c3, d2, { enabled: true }),
    ]);
    expect(again.map((r) => r.status).sort()).toEqual([200, 409]);
    expect(
      await count(
        'partner_id = (SELECT partner_id FROM channels WHERE id = $1) AND enabled AND profile IS NOT NULL',
        c3,
      ),
    ).toBe(2);
  });
});
