import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { createPartner, startTestApp, TestApp } from '../support/test-app';

type Problem = { field: string; message: string };

/**
 * Destinations per API.md: validation naming the field (nothing written), egress rules,
 * write-only stream keys (only a hint is read back), partner scoping.
 */
describe('destinations API', () => {
  let t: TestApp;
  let auth: { authorization: string };
  let channelId = '';

  beforeAll(async () => {
    // The real egress policy: private, loopback, link-local and metadata addresses refused.
    t = await startTestApp({ ROLES: 'api', EGRESS_ALLOW_PRIVATE_NETWORKS: 'false' });
    const partner = await createPartner(t);
    auth = { authorization: `Bearer ${partner.apiKey}` };
    const channel = await t.http().post('/v1/channels').set(auth).send({ name: 'c' }).expect(201);
    channelId = channel.body.id as string;
  });
  afterAll(() => t.close());

  const path = () => `/v1/channels/${channelId}/destinations`;

  async function refused(body: Record<string, unknown>, field: string): Promise<Problem[]> {
    const res = await t.http().post(path()).set(auth).send(body).expect(400);
    expect(res.body.error).toBe('VALIDATION_FAILED');
    const fields = (res.body.details as Problem[]).map((d) => d.field);
    expect(fields).toContain(field);
    return res.body.details as Problem[];
  }

  it('refuses bad input naming the field, and writes nothing', async () => {
    await refused(
      { name: 'x', kind: 'social_platform', url: 'http://live.example.com/app' },
      'url',
    );
    await refused(
      { name: 'x', kind: 'social_platform', url: 'srt://live.example.com:9000' },
      'url',
    );
    await refused({ name: 'x', kind: 'social_platform', url: 'not a url' }, 'url');
    await refused({ name: 'x', kind: 'social_platform' }, 'url');
    await refused({ name: 'x', kind: 'tv_station', url: 'rtmp://a.example/app' }, 'kind');
    await refused({ name: 'x', kind: 'brand_site', url: 'rtmp://a.example/app' }, 'url');
    await refused({ name: 'x', kind: 'brand_site', streamKey: 'k' }, 'streamKey');
    await refused({ name: '', kind: 'brand_site' }, 'name');
    await refused({ name: 'x', kind: 'brand_site', extra: true }, 'extra');
    await refused(
      { name: 'x', kind: 'brand_site', profile: { maxHeight: 100000 } },
      'profile.maxHeight',
    );
    await refused({ name: 'x', kind: 'brand_site', profile: { bitrate: 1 } }, 'profile.bitrate');
    await refused({ name: 'x', kind: 'brand_site', profile: 'fast' }, 'profile');
    const list = await t.http().get(path()).set(auth).expect(200);
    expect(list.body.data).toEqual([]);
  });

  it('refuses private, loopback, link-local and metadata addresses', async () => {
    for (const host of [
      '127.0.0.1',
      '10.1.2.3',
      '192.168.1.10',
      '169.254.169.254',
      '[::1]',
      'localhost',
    ]) {
      const problems = await refused(
        { name: 'x', kind: 'social_platform', url: `rtmp://${host}/app` },
        'url',
      );
      expect(problems.find((p) => p.field === 'url')?.message).toMatch(/not allowed|resolve/);
    }
    await refused(
      { name: 'x', kind: 'social_platform', url: 'rtmp://user:pw@a.example/app' },
      'url',
    );
  });

  it('keeps the stream key write-only and scopes destinations to their partner', async () => {
    const created = await t
      .http()
      .post(path())
      .set(auth)
      .send({
        name: 'YouTube',
        kind: 'social_platform',
        url: 'rtmps://93.184.216.34:443/live2',
        streamKey: 'abcd-efgh-ijkl-9876',
        profile: { maxHeight: 720, fps: 30 },
      })
      .expect(201);
    expect(created.body).toMatchObject({
      name: 'YouTube',
      kind: 'social_platform',
      url: 'rtmps://93.184.216.34:443/live2',
      streamKeyHint: '****9876',
      enabled: true,
      profile: { maxHeight: 720, fps: 30 },
      state: 'idle',
    });
    expect(JSON.stringify(created.body)).not.toContain('abcd-efgh-ijkl');
    const site = await t
      .http()
      .post(path())
      .set(auth)
      .send({ name: 'Site', kind: 'brand_site' })
      .expect(201);
    expect(site.body.playback).toEqual({
      hlsUrl: `${t.config.publicBaseUrl}/hls/${site.body.id}/index.m3u8`,
      embedUrl: `${t.config.publicBaseUrl}/embed/${site.body.id}`,
    });
    expect(site.body.profile).toBe('passthrough');

    const patched = await t
      .http()
      .patch(`${path()}/${created.body.id}`)
      .set(auth)
      .send({ streamKey: 'zzzz-new-key-5555', enabled: false })
      .expect(200);
    expect(patched.body).toMatchObject({ streamKeyHint: '****5555', enabled: false });
    expect(JSON.stringify(patched.body)).not.toContain('zzzz-new-key');
    await t
      .http()
      .patch(`${path()}/${created.body.id}`)
      .set(auth)
      .send({ url: 'rtmp://10.0.0.1/x' })
      .expect(400);

    const other = await createPartner(t, 'Other');
    const otherAuth = { authorization: `Bearer ${other.apiKey}` };
    await t.http().get(`${path()}/${created.body.id}`).set(otherAuth).expect(404);
    await t.http().get(path()).set(otherAuth).expect(404);
    await t.http().delete(`${path()}/${created.body.id}`).set(otherAuth).expect(404);

    await t.http().delete(`${path()}/${created.body.id}`).set(auth).expect(204);
    await t.http().get(`${path()}/${created.body.id}`).set(auth).expect(404);
  });

  it('lists the presets (partner auth), with the shape of API.md', async () => {
    await t.http().get('/v1/destination-presets').expect(401);
    const res = await t.http().get('/v1/destination-presets').set(auth).expect(200);
    const data = res.body.data as Array<Record<string, unknown>>;
    expect(data.map((p) => p.id)).toEqual([
      'custom',
      'youtube',
      'facebook',
      'instagram',
      'tiktok',
      'twitch',
      'linkedin',
    ]);
    expect(data.find((p) => p.id === 'facebook')).toEqual({
      id: 'facebook',
      name: 'Facebook Live',
      scheme: 'rtmps',
      maxWidth: 1920,
      maxHeight: 1080,
      aspect: '16:9',
      maxFps: 60,
      keyframeIntervalSeconds: 2,
      videoBitrateKbps: { min: 400, max: 9000 },
      constantBitrate: true,
      audioSampleRate: 48000,
    });
    // The OpenAPI document describes the answer with the DTO's schema.
    const doc = (await t.http().get('/docs-json').expect(200)).body as {
      paths: Record<string, { get: { responses: Record<string, { content: unknown }> } }>;
      components: { schemas: Record<string, { properties: Record<string, unknown> }> };
    };
    expect(JSON.stringify(doc.paths['/v1/destination-presets'].get.responses['200'])).toContain(
      'DestinationPresetListDto',
    );
    expect(Object.keys(doc.components.schemas.DestinationPresetDto.properties)).toContain(
      'keyframeIntervalSeconds',
    );
  });

  it('takes a preset and the profile union on create and PATCH; refuses bad pairs, naming the field', async () => {
    const url = 'rtmps://93.184.216.34:443/app';
    const created = await t
      .http()
      .post(path())
      .set(auth)
      .send({ name: 'TikTok', kind: 'social_platform', url, preset: 'tiktok', profile: 'auto' })
      .expect(201);
    expect(created.body).toMatchObject({ preset: 'tiktok', profile: 'auto' });
    const plain = await t
      .http()
      .post(path())
      .set(auth)
      .send({ name: 'Plain', kind: 'social_platform', url })
      .expect(201);
    expect(plain.body).toMatchObject({ preset: 'custom', profile: 'passthrough' });
    const id = created.body.id as string;

    const before = (await t.http().get(path()).set(auth).expect(200)).body.data.length as number;
    await refused({ name: 'x', kind: 'social_platform', url, preset: 'myspace' }, 'preset');
    await refused({ name: 'x', kind: 'social_platform', url, profile: 'auto' }, 'profile');
    await refused(
      { name: 'x', kind: 'social_platform', url, profile: { fit: 'pad' } },
      'profile.fit',
    );
    await refused(
      { name: 'x', kind: 'social_platform', url, preset: 'tiktok', profile: { aspect: '4:3' } },
      'profile.aspect',
    );
    await refused(
      { name: 'x', kind: 'social_platform', url, profile: { audioOnly: true, fps: 30 } },
      'profile.fps',
    );
    await refused({ name: 'x', kind: 'brand_site', preset: 'youtube' }, 'preset');
    expect((await t.http().get(path()).set(auth).expect(200)).body.data.length).toBe(before);

    const patch = (body: Record<string, unknown>) =>
      t.http().patch(`${path()}/${id}`).set(auth).send(body);
    // Custom would leave "auto" nothing to fit: the field sent is the one named.
    const bad = await patch({ preset: 'custom' }).expect(400);
    expect(bad.body.details.map((d: Problem) => d.field)).toEqual(['preset']);
    expect((await patch({ preset: null }).expect(400)).body.details[0].field).toBe('preset');
    const shaped = await patch({ profile: { fit: 'blur', videoBitrateKbps: 2500 } }).expect(200);
    expect(shaped.body).toMatchObject({
      preset: 'tiktok',
      profile: { fit: 'blur', videoBitrateKbps: 2500 },
    });
    const moved = await patch({ preset: 'youtube', profile: { aspect: 'source' } }).expect(200);
    expect(moved.body).toMatchObject({ preset: 'youtube', profile: { aspect: 'source' } });
    const db = t.app.get<DataSource>(getDataSourceToken());
    const row = (await db.query(
      'SELECT preset, profile, config_version FROM destinations WHERE id = $1',
      [id],
    )) as Array<{ preset: string; profile: unknown; config_version: number }>;
    expect(row[0]).toEqual({ preset: 'youtube', profile: { aspect: 'source' }, config_version: 3 });
    await patch({ profile: 'passthrough', preset: 'custom' }).expect(200);
  });
});
