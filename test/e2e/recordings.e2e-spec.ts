import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import {
  ffmpegProcessesWith,
  probe,
  publishTestPattern,
  Publisher,
  stopAllMedia,
} from '../support/media';
import { Json, newPartnerClient, PartnerClient, waitReady } from '../support/partner-client';
import { CastbridgeProcess, freePort, spawnCastbridge, waitFor } from '../support/processes';
import { S3Server, startS3 } from '../support/s3';
import { dropDatabase, flushQueuePrefix, testEnv } from '../support/test-env';

jest.setTimeout(240_000);

const run = promisify(execFile);

interface RecordingView {
  sessionId: string;
  state: string;
  durationSeconds: number;
  sizeBytes: number;
  playback: { hlsUrl: string; replayUrl: string };
  pins: Json[];
}

/** The duration ffprobe reads from a playlist (it plays it through). */
async function probedSeconds(url: string): Promise<number> {
  const { stdout } = await run('ffprobe', [
    '-v',
    'error',
    '-show_entries',
    'format=duration',
    '-of',
    'default=nw=1:nk=1',
    url,
  ]);
  return Number.parseFloat(stdout.trim());
}

/** Segments of a playlist with their PROGRAM-DATE-TIME, split at discontinuities. */
function runsOf(playlist: string): Array<Array<{ at: number; seconds: number }>> {
  const runs: Array<Array<{ at: number; seconds: number }>> = [[]];
  let at = 0;
  for (const line of playlist.split('\n')) {
    if (line === '#EXT-X-DISCONTINUITY') runs.push([]);
    else if (line.startsWith('#EXT-X-PROGRAM-DATE-TIME:')) at = Date.parse(line.slice(25));
    else if (line.startsWith('#EXTINF:')) {
      runs[runs.length - 1]!.push({ at, seconds: Number.parseFloat(line.slice(8)) });
    }
  }
  return runs;
}

async function setup(extra: Record<string, string> = {}) {
  const rtmpPort = await freePort();
  const env = testEnv({ RTMP_PORT: String(rtmpPort), ...extra });
  return { env, rtmpPort };
}

async function liveChannel(call: PartnerClient['call']) {
  const ch = await call('POST', '/v1/channels', { name: 'Recorded show', recording: true });
  expect(ch.status).toBe(201);
  expect(ch.body.recording).toBe(true);
  const site = await call('POST', `/v1/channels/${String(ch.body.id)}/destinations`, {
    name: 'Site',
    kind: 'brand_site',
  });
  expect(site.status).toBe(201);
  return {
    channelId: String(ch.body.id),
    streamKey: (ch.body.ingest as { streamKey: string }).streamKey,
    siteId: String(site.body.id),
  };
}

async function sessionOf(call: PartnerClient['call'], channelId: string): Promise<string> {
  return waitFor(
    async () => {
      const c = await call('GET', `/v1/channels/${channelId}`);
      return c.body.status === 'live' ? String(c.body.currentSessionId) : null;
    },
    { what: 'channel live', intervalMs: 200 },
  );
}

async function recordingOf(call: PartnerClient['call'], sessionId: string) {
  const r = await call('GET', `/v1/sessions/${sessionId}/recording`);
  return r.status === 200 ? (r.body as unknown as RecordingView) : null;
}

/** The recording once it is `ready`. */
function readyRecording(
  call: PartnerClient['call'],
  sessionId: string,
  timeoutMs: number,
): Promise<RecordingView> {
  return waitFor(
    async () => {
      const r = await recordingOf(call, sessionId);
      return r?.state === 'ready' ? r : null;
    },
    { what: 'recording ready', timeoutMs },
  );
}

describe('recordings (real ffmpeg publish, real processes)', () => {
  const publishers: Publisher[] = [];
  const procs: CastbridgeProcess[] = [];
  const envs: Array<Record<string, string>> = [];
  let s3: S3Server | null = null;

  afterAll(async () => {
    for (const p of publishers) await p.stop();
    for (const p of procs) await p.stop('SIGKILL');
    await stopAllMedia();
    await s3?.stop();
    for (const e of envs) {
      await dropDatabase(e.DATABASE_URL!);
      await flushQueuePrefix(e.QUEUE_PREFIX!);
    }
  });

  /** One service process (all roles, local storage), ready, and a partner of it. */
  async function startService(partner: string) {
    const { env, rtmpPort } = await setup();
    envs.push(env);
    const app = await spawnCastbridge(env);
    procs.push(app);
    await waitReady(app.baseUrl);
    const { call } = await newPartnerClient(app.baseUrl, partner);
    return { env, rtmpPort, app, call };
  }

  it('local driver: the VOD playlist lasts what was published (within a second); DELETE removes it', async () => {
    const { env, rtmpPort, app, call } = await startService('Recorder');
    const { channelId, streamKey } = await liveChannel(call);

    const off = await call('POST', '/v1/channels', { name: 'x', recording: 'yes' });
    expect(off.status).toBe(400);
    expect(JSON.stringify(off.body)).toContain('recording');

    const PUBLISHED = 12;
    const pub = publishTestPattern(`rtmp://127.0.0.1:${rtmpPort}/live/${streamKey}`, {
      seconds: PUBLISHED,
      keyframeSeconds: 1,
    });
    publishers.push(pub);
    const sessionId = await sessionOf(call, channelId);
    expect((await recordingOf(call, sessionId))?.state).toBe('recording');
    // H.264 + AAC is segmented in the worker's own process: no ffmpeg for the recording.
    await waitFor(async () => ((await recordingOf(call, sessionId))?.durationSeconds ?? 0) > 0, {
      what: 'a recorded segment',
      timeoutMs: 20_000,
    });
    expect(await ffmpegProcessesWith(join(env.MEDIA_DIR!, 'scratch', 'recordings'))).toBe(0);
    await pub.exited;
    const ready = await readyRecording(call, sessionId, 30_000);
    expect(ready.playback.replayUrl).toMatch(new RegExp(`/replay/${sessionId}$`));
    const hlsUrl = `${app.baseUrl}/replay/${sessionId}/index.m3u8`;
    const playlist = await (await fetch(hlsUrl)).text();
    expect(playlist).toContain('#EXT-X-PLAYLIST-TYPE:VOD');
    expect(playlist).toContain('#EXT-X-ENDLIST');
    expect(playlist).toContain('#EXT-X-PROGRAM-DATE-TIME:');
    const seconds = await probedSeconds(hlsUrl);
    expect(Math.abs(seconds - PUBLISHED)).toBeLessThanOrEqual(1);
    expect(Math.abs(ready.durationSeconds - PUBLISHED)).toBeLessThanOrEqual(1);
    expect(ready.sizeBytes).toBeGreaterThan(0);
    expect((await probe(hlsUrl)).some((s) => s.codec_type === 'video')).toBe(true);

    const seg = /^(seg_\d+\.ts)$/m.exec(playlist)![1]!;
    const segRes = await fetch(`${app.baseUrl}/replay/${sessionId}/${seg}`);
    expect(segRes.status).toBe(200);
    expect(segRes.headers.get('cache-control')).toContain('immutable');
    expect((await fetch(hlsUrl)).headers.get('cache-control')).toMatch(/max-age=\d$/);
    expect((await fetch(`${app.baseUrl}/replay/${sessionId}`)).status).toBe(200);

    expect((await call('DELETE', `/v1/sessions/${sessionId}/recording`)).status).toBe(204);
    expect((await recordingOf(call, sessionId))?.state).toBe('deleted');
    expect((await fetch(hlsUrl)).status).toBe(404);
    expect(
      (await call('GET', `/v1/sessions/00000000-0000-4000-8000-000000000000/recording`)).status,
    ).toBe(404);
  });

  it('a stream the in-process segmenter does not take (MP3 audio) is recorded by ffmpeg instead', async () => {
    const { env, rtmpPort, app, call } = await startService('Mp3 recorder');
    const ch = await call('POST', '/v1/channels', { name: 'MP3 show', recording: true });
    const streamKey = (ch.body.ingest as { streamKey: string }).streamKey;
    const PUBLISHED = 10;
    const pub = publishTestPattern(`rtmp://127.0.0.1:${rtmpPort}/live/${streamKey}`, {
      seconds: PUBLISHED,
      audio: 'mp3',
    });
    publishers.push(pub);
    const sessionId = await sessionOf(call, String(ch.body.id));
    await waitFor(
      async () => (await ffmpegProcessesWith(join(env.MEDIA_DIR!, 'scratch', 'recordings'))) === 1,
      { what: 'ffmpeg packaging the recording', timeoutMs: 20_000 },
    );
    await pub.exited;
    const ready = await readyRecording(call, sessionId, 30_000);
    const hlsUrl = `${app.baseUrl}/replay/${sessionId}/index.m3u8`;
    const streams = await probe(hlsUrl);
    expect(streams.find((s) => s.codec_type === 'audio')?.codec_name).toBe('mp3');
    expect(streams.some((s) => s.codec_type === 'video')).toBe(true);
    // The segmenter's refusal costs the first key frames at most.
    expect(ready.durationSeconds).toBeGreaterThan(PUBLISHED - 2);
  });

  it('s3 driver, api and worker apart with their own MEDIA_DIR: live rendition and recording through S3; a killed worker loses only the segment in progress', async () => {
    s3 = await startS3();
    const { env, rtmpPort } = await setup(s3.env);
    envs.push(env);
    const api = await spawnCastbridge({
      ...env,
      ROLES: 'api,ingest',
      MEDIA_DIR: `${env.MEDIA_DIR}-api`,
    });
    procs.push(api);
    await waitReady(api.baseUrl);
    const startWorker = async (n: number) => {
      const w = await spawnCastbridge({
        ...env,
        ROLES: 'worker',
        MEDIA_DIR: `${env.MEDIA_DIR}-worker${n}`,
      });
      procs.push(w);
      return w;
    };
    let worker = await startWorker(1);
    const { call } = await newPartnerClient(api.baseUrl, 'Recorder S3');
    const { channelId, streamKey, siteId } = await liveChannel(call);

    // Published until the second worker has recorded a while (a loaded machine may take
    // long to start it).
    const pub = publishTestPattern(`rtmp://127.0.0.1:${rtmpPort}/live/${streamKey}`, {
      keyframeSeconds: 1,
    });
    publishers.push(pub);
    const sessionId = await sessionOf(call, channelId);

    // The live rendition, written by the worker into S3, served by the api.
    const live = `${api.baseUrl}/hls/${siteId}/index.m3u8`;
    const livePlaylist = await waitFor(
      async () => {
        const r = await fetch(live);
        const text = r.status === 200 ? await r.text() : '';
        return text.includes('#EXTINF') ? text : null;
      },
      { what: 'live playlist in S3', timeoutMs: 30_000 },
    );
    expect(livePlaylist).toContain('#EXT-X-PROGRAM-DATE-TIME:');
    expect((await probe(live)).some((s) => s.codec_type === 'video')).toBe(true);

    // Some segments recorded, then the worker dies without a word.
    await waitFor(async () => ((await recordingOf(call, sessionId))?.durationSeconds ?? 0) >= 6, {
      what: 'six seconds recorded',
      timeoutMs: 30_000,
    });
    const killedAt = Date.now();
    worker.child.kill('SIGKILL');
    await worker.exited;
    const before = (await recordingOf(call, sessionId))!.durationSeconds;
    worker = await startWorker(2);
    await waitFor(
      async () => ((await recordingOf(call, sessionId))?.durationSeconds ?? 0) > before,
      { what: 'recording resumed', timeoutMs: 90_000, intervalMs: 100 },
    );
    const resumedAt = Date.now();
    await waitFor(
      async () => ((await recordingOf(call, sessionId))?.durationSeconds ?? 0) > before + 4,
      { what: 'recording after the takeover', timeoutMs: 30_000 },
    );
    await pub.stop();
    const ready = await readyRecording(call, sessionId, 60_000);
    const hlsUrl = `${api.baseUrl}/replay/${sessionId}/index.m3u8`;
    const playlist = await (await fetch(hlsUrl)).text();
    const runs = runsOf(playlist);
    // One takeover: what the first worker stored is all there, then the second one's run.
    expect(runs.length).toBe(2);
    const first = runs[0]!;
    const second = runs[1]!;
    const sum = (r: typeof first) => r.reduce((t, s) => t + s.seconds, 0);
    expect(Math.abs(sum(first) - before)).toBeLessThan(0.01);
    // Within each run the timeline has no hole; the only gap is the handover.
    for (const r of runs) {
      for (let i = 1; i < r.length; i++) {
        expect(Math.abs(r[i]!.at - (r[i - 1]!.at + r[i - 1]!.seconds * 1000))).toBeLessThan(150);
      }
    }
    const gap = (second[0]!.at - (first.at(-1)!.at + first.at(-1)!.seconds * 1000)) / 1000;
    expect(gap).toBeGreaterThanOrEqual(0);
    // The gap is the handover (kill → the new worker's first stored segment) and the
    // segment that was in progress (≤ 2 s segments), nothing more.
    expect(gap).toBeLessThanOrEqual((resumedAt - killedAt) / 1000 + 2.5);
    expect(Math.abs(ready.durationSeconds - sum(first) - sum(second))).toBeLessThan(0.01);
    const probed = await probedSeconds(hlsUrl);
    expect(Math.abs(probed - ready.durationSeconds)).toBeLessThanOrEqual(1);

    // The live files go when the session ends.
    await waitFor(async () => (await s3!.keys(`hls/${siteId}/`)).length === 0, {
      what: 'live files deleted from S3',
    });
    expect((await fetch(live)).status).toBe(404);
    expect((await s3.keys(`recordings/${sessionId}/`)).length).toBeGreaterThan(first.length);
  });
});
