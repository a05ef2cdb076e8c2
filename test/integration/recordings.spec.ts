import { getDataSourceToken } from '@nestjs/typeorm';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { jobSchedules } from '../../src/ops/periodic-work';
import { RecordingsService } from '../../src/recording/recordings.service';
import { createPartner, startTestApp, TestApp } from '../support/test-app';

jest.setTimeout(60_000);

/**
 * RECORDING_RETENTION: the scheduled `recordings.prune` deletes recordings created before
 * it (their media in storage, their segments; the row reads `deleted`), and only those.
 */
describe('recording retention', () => {
  let t: TestApp;
  let db: DataSource;
  let auth: { authorization: string };
  let channelId = '';
  let partnerId = '';

  beforeAll(async () => {
    t = await startTestApp({ ROLES: 'api', RECORDING_RETENTION: '2d' });
    db = t.app.get<DataSource>(getDataSourceToken());
    const partner = await createPartner(t);
    partnerId = partner.id;
    auth = { authorization: `Bearer ${partner.apiKey}` };
    const ch = await t
      .http()
      .post('/v1/channels')
      .set(auth)
      .send({ name: 'Old shows', recording: true });
    expect(ch.status).toBe(201);
    channelId = ch.body.id as string;
  });
  afterAll(() => t?.close());

  /** An ended, ready recording created `daysAgo` days ago, with one stored segment. */
  async function recording(daysAgo: number): Promise<{ sessionId: string; dir: string }> {
    const [s] = (await db.query(
      `INSERT INTO sessions (partner_id, channel_id, status, ingest_node, stream_name, ended_at)
       VALUES ($1, $2, 'ended', 'test', 'test', now()) RETURNING id`,
      [partnerId, channelId],
    )) as Array<{ id: string }>;
    const sessionId = s!.id;
    await db.query(
      `INSERT INTO recordings (session_id, partner_id, channel_id, state, duration_seconds,
                               size_bytes, created_at)
       VALUES ($1, $2, $3, 'ready', 2, 4, now() - make_interval(days => $4))`,
      [sessionId, partnerId, channelId, daysAgo],
    );
    await db.query(
      `INSERT INTO recording_segments (session_id, seq, uri, duration_seconds, started_at, bytes)
       VALUES ($1, 0, 'seg_000000.ts', 2, now(), 4)`,
      [sessionId],
    );
    const dir = join(t.config.mediaDir, 'recordings', sessionId);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'seg_000000.ts'), 'abcd');
    await writeFile(join(dir, 'index.m3u8'), '#EXTM3U\n');
    return { sessionId, dir };
  }

  it('is a scheduled job', () => {
    expect(jobSchedules(t.config).find((s) => s.job === 'recordings.prune')).toBeTruthy();
    expect(t.config.recordingRetentionMs).toBe(2 * 86_400_000);
  });

  it('deletes what is older than RECORDING_RETENTION and keeps the rest', async () => {
    const old = await recording(3);
    const recent = await recording(1);
    expect((await t.http().get(`/replay/${old.sessionId}/index.m3u8`)).status).toBe(200);

    expect(await t.app.get(RecordingsService).prune()).toBe(1);

    const gone = await t.http().get(`/v1/sessions/${old.sessionId}/recording`).set(auth);
    expect(gone.status).toBe(200);
    expect(gone.body).toMatchObject({ state: 'deleted', sizeBytes: 0 });
    expect(existsSync(old.dir)).toBe(false);
    expect((await t.http().get(`/replay/${old.sessionId}/index.m3u8`)).status).toBe(404);
    expect((await t.http().get(`/replay/${old.sessionId}`)).status).toBe(404);

    const kept = await t.http().get(`/v1/sessions/${recent.sessionId}/recording`).set(auth);
    expect(kept.body).toMatchObject({ state: 'ready', durationSeconds: 2, sizeBytes: 4 });
    expect(existsSync(join(recent.dir, 'seg_000000.ts'))).toBe(true);
    expect(await t.app.get(RecordingsService).prune()).toBe(0);
  });

  it('refuses a bad RECORDING_RETENTION with a message naming it', async () => {
    const { loadConfig, ConfigValidationError } = await import('../../config/env.schema');
    expect(() => loadConfig({ RECORDING_RETENTION: 'forever' })).toThrow(ConfigValidationError);
    expect(() => loadConfig({ RECORDING_RETENTION: 'forever' })).toThrow(/RECORDING_RETENTION/);
  });
});
