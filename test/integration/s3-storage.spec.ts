import { getDataSourceToken } from '@nestjs/typeorm';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { MEDIA_STORAGE, MediaStorage } from '../../src/storage/media-storage';
import { MULTIPART_THRESHOLD, S3Storage } from '../../src/storage/s3-storage';
import { S3Server, startS3 } from '../support/s3';
import { createPartner, startTestApp, TestApp } from '../support/test-app';

jest.setTimeout(90_000);

/**
 * STORAGE_DRIVER=s3 against a real S3-compatible server (s3rver) on loopback: objects in
 * and out, a file above the multipart threshold uploaded in parts, folders deleted, and
 * the api answering segments with a redirect to a presigned URL (S3_PRESIGNED_URLS).
 */
describe('s3 storage driver', () => {
  let s3: S3Server;
  let storage: S3Storage;
  let dir: string;

  beforeAll(async () => {
    s3 = await startS3();
    storage = new S3Storage({
      endpoint: s3.endpoint,
      bucket: s3.bucket,
      region: 'us-east-1',
      accessKeyId: 'S3RVER',
      secretAccessKey: 'S3RVER',
      forcePathStyle: true,
    });
    dir = await mkdtemp(join(tmpdir(), 'cb-s3-files-'));
  });
  afterAll(async () => {
    storage?.destroy();
    await s3?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('puts, reads, uploads a large file in parts, presigns, deletes a folder', async () => {
    await storage.put(
      'recordings/x/index.m3u8',
      Buffer.from('#EXTM3U\n'),
      'application/vnd.apple.mpegurl',
    );
    expect((await storage.read('recordings/x/index.m3u8'))?.toString()).toBe('#EXTM3U\n');
    expect(await storage.get('recordings/x/none.ts')).toBeNull();

    const big = randomBytes(MULTIPART_THRESHOLD + 3 * 1024 * 1024);
    const path = join(dir, 'big.ts');
    await writeFile(path, big);
    expect(await storage.putFile('recordings/x/seg_000000.ts', path, 'video/mp2t')).toBe(
      big.length,
    );
    const back = await storage.read('recordings/x/seg_000000.ts');
    expect(back?.equals(big)).toBe(true);

    const url = await storage.presignedUrl('recordings/x/index.m3u8', 60);
    expect(url).toContain('X-Amz-Signature=');
    expect(await (await fetch(url!)).text()).toBe('#EXTM3U\n');

    await storage.deletePrefix('recordings/x/');
    expect(await s3.keys('recordings/x/')).toEqual([]);
  });

  describe('the api with S3_PRESIGNED_URLS', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp({ ROLES: 'api', ...s3.env, S3_PRESIGNED_URLS: 'true' });
    });
    afterAll(() => t?.close());

    it('redirects segments to presigned URLs and serves playlists itself', async () => {
      const db = t.app.get<DataSource>(getDataSourceToken());
      const partner = await createPartner(t);
      const ch = await t
        .http()
        .post('/v1/channels')
        .set({ authorization: `Bearer ${partner.apiKey}` })
        .send({ name: 'S3 show', recording: true })
        .expect(201);
      const [s] = (await db.query(
        `INSERT INTO sessions (partner_id, channel_id, status, ingest_node, stream_name)
         VALUES ($1, $2, 'ended', 'test', 'test') RETURNING id`,
        [partner.id, ch.body.id],
      )) as Array<{ id: string }>;
      await db.query(
        `INSERT INTO recordings (session_id, partner_id, channel_id, state) VALUES ($1, $2, $3, 'ready')`,
        [s!.id, partner.id, ch.body.id],
      );
      const store = t.app.get<MediaStorage>(MEDIA_STORAGE);
      expect(store.driver).toBe('s3');
      await store.put(`recordings/${s!.id}/seg_000000.ts`, Buffer.from('segment'), 'video/mp2t');
      await store.put(
        `recordings/${s!.id}/index.m3u8`,
        Buffer.from('#EXTM3U\n'),
        'application/vnd.apple.mpegurl',
      );

      const seg = await t.http().get(`/replay/${s!.id}/seg_000000.ts`).redirects(0);
      expect(seg.status).toBe(302);
      expect(seg.headers.location).toContain(s3.endpoint);
      expect(await (await fetch(seg.headers.location as string)).text()).toBe('segment');

      const list = await t.http().get(`/replay/${s!.id}/index.m3u8`).redirects(0);
      expect(list.status).toBe(200);
      expect(list.text).toBe('#EXTM3U\n');
      expect(list.headers['cache-control']).toBe('public, max-age=2');
    });
  });
});
