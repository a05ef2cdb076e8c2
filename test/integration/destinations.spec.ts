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
});
