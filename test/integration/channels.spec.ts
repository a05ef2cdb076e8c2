import { createHash } from 'node:crypto';
import { getDataSourceToken } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ChannelsService } from '../../src/channels/channels.service';
import { createPartner, startTestApp, TestApp } from '../support/test-app';

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest();

describe('channels (HTTP)', () => {
  let t: TestApp;
  let db: DataSource;
  let a: Record<string, string>;
  let b: Record<string, string>;

  beforeAll(async () => {
    t = await startTestApp({
      ROLES: 'api',
      RTMP_PUBLIC_HOST: 'ingest.example.com',
      RTMP_PORT: '1936',
    });
    db = t.app.get(getDataSourceToken());
    a = { authorization: `Bearer ${(await createPartner(t, 'A')).apiKey}` };
    b = { authorization: `Bearer ${(await createPartner(t, 'B')).apiKey}` };
  });
  afterAll(() => t.close());

  it('creates a channel and reveals its stream key only once', async () => {
    const res = await t
      .http()
      .post('/v1/channels')
      .set(a)
      .send({ name: 'Morning show' })
      .expect(201);
    expect(res.body).toEqual({
      id: expect.any(String),
      name: 'Morning show',
      brandId: null,
      status: 'idle',
      currentSessionId: null,
      recording: false,
      ingest: {
        url: 'rtmp://ingest.example.com:1936/live',
        streamKey: expect.stringMatching(/^live_/),
      },
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    const got = await t.http().get(`/v1/channels/${res.body.id}`).set(a).expect(200);
    expect(got.body.ingest).toEqual({ url: 'rtmp://ingest.example.com:1936/live' });
    const list = await t.http().get('/v1/channels').set(a).expect(200);
    expect(JSON.stringify(list.body)).not.toContain(res.body.ingest.streamKey);
    // The whole row: the SHA-256 of the key (computed here, not by the code under test)
    // and no other column.
    const streamKey: string = res.body.ingest.streamKey;
    const rows: Array<Record<string, unknown>> = await db.query(
      'SELECT * FROM channels WHERE id = $1',
      [res.body.id],
    );
    expect(rows).toEqual([
      {
        id: res.body.id,
        partner_id: expect.any(String),
        name: 'Morning show',
        brand_id: null,
        stream_key_hash: sha256(streamKey),
        current_session_id: null,
        recording: false,
        created_at: expect.any(Date),
        updated_at: expect.any(Date),
      },
    ]);
  });

  it('links a brand of the same partner only', async () => {
    const brand = await t.http().post('/v1/brands').set(a).send({ name: 'Glow' }).expect(201);
    const other = await t.http().post('/v1/brands').set(b).send({ name: 'Other' }).expect(201);
    const ok = await t
      .http()
      .post('/v1/channels')
      .set(a)
      .send({ name: 'c', brandId: brand.body.id })
      .expect(201);
    expect(ok.body.brandId).toBe(brand.body.id);
    const bad = await t
      .http()
      .post('/v1/channels')
      .set(a)
      .send({ name: 'c', brandId: other.body.id })
      .expect(400);
    expect(bad.body).toMatchObject({ error: 'VALIDATION_FAILED', details: [{ field: 'brandId' }] });
    const unlinked = await t
      .http()
      .patch(`/v1/channels/${ok.body.id}`)
      .set(a)
      .send({ brandId: null })
      .expect(200);
    expect(unlinked.body.brandId).toBeNull();
  });

  it('renames, lists with cursors, and deletes', async () => {
    const p = await createPartner(t, 'Pager');
    const auth = { authorization: `Bearer ${p.apiKey}` };
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push(
        (
          await t
            .http()
            .post('/v1/channels')
            .set(auth)
            .send({ name: `ch${i}` })
            .expect(201)
        ).body.id,
      );
    }
    const renamed = await t
      .http()
      .patch(`/v1/channels/${ids[0]}`)
      .set(auth)
      .send({ name: 'renamed' })
      .expect(200);
    expect(renamed.body.name).toBe('renamed');
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const q: string = cursor ? `?limit=2&cursor=${cursor}` : '?limit=2';
      const page = await t.http().get(`/v1/channels${q}`).set(auth).expect(200);
      expect(page.body.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.data.map((c: { id: string }) => c.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse()); // newest first, each once
    await t.http().delete(`/v1/channels/${ids[1]}`).set(auth).expect(204);
    await t.http().get(`/v1/channels/${ids[1]}`).set(auth).expect(404);
    await t.http().delete(`/v1/channels/${ids[1]}`).set(auth).expect(404);
  });

  it('rotates the stream key: the old one stops matching at once', async () => {
    const created = await t.http().post('/v1/channels').set(a).send({ name: 'rot' }).expect(201);
    const oldKey: string = created.body.ingest.streamKey;
    const channels = t.app.get(ChannelsService);
    expect((await channels.findByStreamKey(oldKey))?.id).toBe(created.body.id);
    const res = await t
      .http()
      .post(`/v1/channels/${created.body.id}/stream-key`)
      .set(a)
      .expect(201);
    expect(res.body).toEqual({ streamKey: expect.stringMatching(/^live_/) });
    expect(res.body.streamKey).not.toBe(oldKey);
    expect(await channels.findByStreamKey(oldKey)).toBeNull();
    expect((await channels.findByStreamKey(res.body.streamKey))?.id).toBe(created.body.id);
    const [row] = await db.query('SELECT stream_key_hash FROM channels WHERE id = $1', [
      created.body.id,
    ]);
    expect(row.stream_key_hash).toEqual(sha256(res.body.streamKey));
  });

  it("answers 404 for another partner's channel and changes nothing", async () => {
    const created = await t.http().post('/v1/channels').set(a).send({ name: 'mine' }).expect(201);
    const id = created.body.id;
    const r1 = await t.http().get(`/v1/channels/${id}`).set(b).expect(404);
    expect(r1.body).toMatchObject({ statusCode: 404, error: 'NOT_FOUND' });
    await t.http().patch(`/v1/channels/${id}`).set(b).send({ name: 'stolen' }).expect(404);
    await t.http().delete(`/v1/channels/${id}`).set(b).expect(404);
    await t.http().post(`/v1/channels/${id}/stream-key`).set(b).expect(404);
    const sessions = await t.http().get(`/v1/channels/${id}/sessions`).set(b).expect(404);
    expect(sessions.body.message).toContain('channel');
    await t.http().get(`/v1/channels/not-a-uuid/sessions`).set(b).expect(404);
    await t
      .http()
      .get(`/v1/channels/${id}/sessions`)
      .set(a)
      .expect(200, { data: [], nextCursor: null });
    const list = await t.http().get('/v1/channels').set(b).expect(200);
    expect(list.body.data.map((c: { id: string }) => c.id)).not.toContain(id);
    const still = await t.http().get(`/v1/channels/${id}`).set(a).expect(200);
    expect(still.body.name).toBe('mine');
    expect(
      (await t.app.get(ChannelsService).findByStreamKey(created.body.ingest.streamKey))?.id,
    ).toBe(id);
  });
});
