import {
  ffmpegProcessesWith,
  hasVideo,
  makeTestCertificate,
  TestCertificate,
  maxVideoGap,
  probe,
  publishTestPattern,
  Publisher,
  RtmpSink,
  startNginxSink,
  startRtmpsSink,
  stopAllMedia,
} from '../support/media';
import { Json, newPartnerClient, PartnerClient, waitReady } from '../support/partner-client';
import {
  CastbridgeProcess,
  childProcesses,
  freePort,
  ProcessInfo,
  spawnCastbridge,
  stillRunning,
  waitFor,
} from '../support/processes';
import { dropDatabase, flushQueuePrefix, testEnv } from '../support/test-env';

jest.setTimeout(180_000);

interface RelayView {
  destinationId: string;
  state: string;
  attempts: number;
  lastError: string | null;
  bytesSent: number;
}
interface SessionView {
  id: string;
  status: string;
  ingest: Json;
  destinations: RelayView[];
}

/**
 * A stream from the door to the sinks, through the real service process: an ffmpeg
 * publisher into the embedded RTMP ingest, relays run by the worker role, nginx-rtmp
 * sinks (one behind TLS), HLS served over HTTP, all probed with ffprobe.
 */
describe('live streaming (real processes)', () => {
  let app: CastbridgeProcess;
  let env: Record<string, string>;
  let rtmpPort = 0;
  let certificate: TestCertificate;
  const sinks: RtmpSink[] = [];
  const publishers: Publisher[] = [];
  const secrets: string[] = [];
  /** Every ffmpeg the service was seen running (its children, read from /proc). */
  const ffmpegsSeen = new Map<number, ProcessInfo>();

  let call: PartnerClient['call'];

  /** The service's ffmpeg children now; each is remembered for the checks at the end. */
  function ffmpegs(): ProcessInfo[] {
    // (Not the readiness check's `ffmpeg -version`.)
    const now = childProcesses(app.child.pid!, 'ffmpeg').filter(
      (f) => !f.cmdline.includes('-version'),
    );
    for (const f of now) ffmpegsSeen.set(f.pid, f);
    return now;
  }

  /** ffmpegs of this test's service, by its own MEDIA_DIR (HLS), even once orphaned. */
  const hlsFfmpegs = () => ffmpegProcessesWith(env.MEDIA_DIR);

  async function session(id: string): Promise<SessionView> {
    return (await call('GET', `/v1/sessions/${id}`)).body as unknown as SessionView;
  }

  async function relayOf(sessionId: string, destinationId: string): Promise<RelayView | undefined> {
    return (await session(sessionId)).destinations.find((d) => d.destinationId === destinationId);
  }

  function waitRelay(sessionId: string, destinationId: string, state: string, timeoutMs = 20_000) {
    return waitFor(
      async () => {
        const r = await relayOf(sessionId, destinationId);
        return r?.state === state ? r : null;
      },
      { timeoutMs, intervalMs: 250, what: `relay ${destinationId} ${state}` },
    );
  }

  async function destination(channelId: string, body: Json): Promise<string> {
    const res = await call('POST', `/v1/channels/${channelId}/destinations`, body);
    expect(res.status).toBe(201);
    expect(JSON.stringify(res.body)).not.toContain(String(body.streamKey ?? '@@none'));
    return String(res.body.id);
  }

  async function newChannel(): Promise<{ id: string; streamKey: string }> {
    const res = await call('POST', '/v1/channels', { name: 'Show' });
    const streamKey = (res.body.ingest as { streamKey: string }).streamKey;
    secrets.push(streamKey);
    return { id: String(res.body.id), streamKey };
  }

  async function goLive(
    channelId: string,
    streamKey: string,
  ): Promise<{ pub: Publisher; sessionId: string }> {
    const pub = publishTestPattern(`rtmp://127.0.0.1:${rtmpPort}/live/${streamKey}`);
    publishers.push(pub);
    const sessionId = await waitFor(
      async () => {
        const c = await call('GET', `/v1/channels/${channelId}`);
        return c.body.status === 'live' ? String(c.body.currentSessionId) : null;
      },
      { what: 'channel live', intervalMs: 200 },
    );
    return { pub, sessionId };
  }

  beforeAll(async () => {
    rtmpPort = await freePort();
    certificate = await makeTestCertificate();
    // RTMPS is verified: the test sinks' self-signed certificate is trusted like a CA.
    env = testEnv({
      RTMP_PORT: String(rtmpPort),
      LOG_LEVEL: 'debug',
      NODE_EXTRA_CA_CERTS: certificate.cert,
    });
    app = await spawnCastbridge(env);
    await waitReady(app.baseUrl);
    const partner = await newPartnerClient(app.baseUrl, 'Streams');
    call = partner.call;
    secrets.push(partner.apiKey);
  });

  afterAll(async () => {
    if (process.env.DEBUG_LOGS)
      console.log(
        app
          .output()
          .split('\n')
          .filter((l) => !l.includes('request completed'))
          .join('\n')
          .slice(-20000),
      );
    // SIGTERM while live: the last test leaves a session with its HLS rendition running.
    const atStop = ffmpegs();
    const code = await app.stop('SIGTERM');
    for (const p of publishers) await p.stop();
    expect(code).toBe(0);
    expect(atStop.length).toBeGreaterThan(0);
    // No relay ffmpeg outlives the service: none of those seen, no HLS one of its MEDIA_DIR.
    await waitFor(async () => ![...ffmpegsSeen.values()].some(stillRunning), {
      what: 'every ffmpeg of the service gone',
      timeoutMs: 5000,
    });
    expect(await hlsFfmpegs()).toBe(0);
    for (const s of sinks) await s.stop();
    await stopAllMedia();
    // Secrets never reach the logs (LOG_LEVEL=debug, node-media-server's logs included).
    const logs = app.output();
    for (const s of secrets) expect(logs).not.toContain(s);
    await dropDatabase(env.DATABASE_URL);
    await flushQueuePrefix(env.QUEUE_PREFIX);
  });

  it('fans out to RTMP, RTMPS and HLS; isolates a failing sink; applies live changes', async () => {
    const [a, b, c] = [await startNginxSink(), await startNginxSink(), await startNginxSink()];
    const tls = await startRtmpsSink(certificate);
    sinks.push(a, b, c, tls);
    const ch = await newChannel();
    const keyA = 'sk_alpha_0123456789';
    const keyB = 'sk_bravo_0123456789';
    const keyT = 'sk_tls_0123456789ab';
    const keyC = 'sk_charlie_01234567';
    secrets.push(keyA, keyB, keyT, keyC);
    const dA = await destination(ch.id, {
      name: 'A',
      kind: 'social_platform',
      url: a.url,
      streamKey: keyA,
    });
    const dB = await destination(ch.id, {
      name: 'B',
      kind: 'partner_shop',
      url: b.url,
      streamKey: keyB,
    });
    const dT = await destination(ch.id, {
      name: 'TLS',
      kind: 'social_platform',
      url: tls.url,
      streamKey: keyT,
    });
    const dH = await destination(ch.id, { name: 'Site', kind: 'brand_site' });

    const { sessionId } = await goLive(ch.id, ch.streamKey);
    for (const d of [dA, dB, dT, dH]) await waitRelay(sessionId, d, 'live');

    // Every sink receives the stream.
    for (const [sink, key] of [
      [a, keyA],
      [b, keyB],
      [tls.plain, keyT],
    ] as const) {
      const streams = await probe(`${sink.url}/${key}`);
      expect(streams.find((s) => s.codec_type === 'video')).toMatchObject({
        codec_name: 'h264',
        width: 640,
        height: 360,
      });
      expect(streams.find((s) => s.codec_type === 'audio')).toMatchObject({ codec_name: 'aac' });
    }
    // HLS playlist and segments, playable by ffprobe.
    const hls = `${app.baseUrl}/hls/${dH}/index.m3u8`;
    await waitFor(async () => (await fetch(hls)).status === 200, { what: 'HLS playlist' });
    const playlist = await (await fetch(hls)).text();
    expect(playlist).toContain('#EXTM3U');
    expect(playlist).toMatch(/seg_[0-9a-z]+_\d{6}\.ts/);
    expect(playlist).toContain('#EXT-X-PROGRAM-DATE-TIME:');
    expect((await probe(hls)).some((s) => s.codec_type === 'video')).toBe(true);
    // One ffmpeg while live, the HLS rendition's (passthrough relays need none).
    const live = ffmpegs();
    expect(live.map((f) => f.cmdline.some((a) => a.startsWith(env.MEDIA_DIR)))).toEqual([true]);
    expect(await hlsFfmpegs()).toBe(1);

    // Session shows the ingest's codec, size and fps.
    const s1 = await session(sessionId);
    await waitFor(async () => (await session(sessionId)).ingest.width === 640, {
      what: 'ingest info',
    });
    expect((await session(sessionId)).ingest).toMatchObject({
      videoCodec: 'h264',
      audioCodec: 'aac',
      width: 640,
      height: 360,
    });
    expect(s1.status).toBe('live');

    // Metrics: the live session and the relays by state (from Postgres, every worker alike).
    await waitFor(
      async () => {
        const text = await (await fetch(`${app.baseUrl}/metrics`)).text();
        return (
          /^castbridge_ingest_sessions_live 1$/m.test(text) &&
          /^castbridge_relays\{state="live"\} 4$/m.test(text)
        );
      },
      { what: 'relay and ingest metrics', timeoutMs: 15_000 },
    );

    // Sink B dies: its relay retries; A keeps receiving without a gap.
    const gapOnA = maxVideoGap(`${a.url}/${keyA}`, 6);
    await new Promise((r) => setTimeout(r, 1000));
    await b.stop();
    const failing = await waitRelay(sessionId, dB, 'retrying');
    expect(failing.attempts).toBeGreaterThanOrEqual(1);
    expect(failing.lastError).toBeTruthy();
    expect(failing.lastError).not.toContain(keyB);
    const gap = await gapOnA;
    expect(gap.frames).toBeGreaterThan(60);
    expect(gap.maxGap).toBeLessThan(0.5);
    expect((await relayOf(sessionId, dA))?.state).toBe('live');

    // Sink B back: live again.
    await b.restart();
    await waitRelay(sessionId, dB, 'live', 45_000);
    await waitFor(() => hasVideo(`${b.url}/${keyB}`), { what: 'B receives again' });

    // Live changes: one added, one disabled, one edited — each alone.
    const dC = await destination(ch.id, {
      name: 'C',
      kind: 'social_platform',
      url: c.url,
      streamKey: keyC,
    });
    await waitRelay(sessionId, dC, 'live');
    expect(await hasVideo(`${c.url}/${keyC}`)).toBe(true);
    expect(
      (await call('PATCH', `/v1/channels/${ch.id}/destinations/${dA}`, { enabled: false })).status,
    ).toBe(200);
    await waitRelay(sessionId, dA, 'stopped', 5000);
    await waitFor(async () => !(await hasVideo(`${a.url}/${keyA}`)), { what: 'A no longer fed' });
    const listed = await call('GET', `/v1/channels/${ch.id}/destinations`);
    const states = Object.fromEntries(
      (listed.body.data as Json[]).map((d) => [String(d.id), String(d.state)]),
    );
    expect(states).toMatchObject({
      [dA]: 'stopped',
      [dB]: 'live',
      [dC]: 'live',
      [dT]: 'live',
      [dH]: 'live',
    });
    expect(JSON.stringify(listed.body)).not.toMatch(/sk_(alpha|bravo|tls|charlie)/);

    // Transcode profile: the edited destination restarts alone at the asked height.
    expect(
      (
        await call('PATCH', `/v1/channels/${ch.id}/destinations/${dC}`, {
          profile: { maxHeight: 180, videoBitrateKbps: 300 },
        })
      ).status,
    ).toBe(200);
    await waitFor(
      async () => {
        const v = (await probe(`${c.url}/${keyC}`, 5000)).find((s) => s.codec_type === 'video');
        return v?.height === 180;
      },
      { what: 'C at 180p', timeoutMs: 30_000 },
    );
    // Now two: the HLS rendition and C's encoder.
    await waitFor(async () => ffmpegs().length === 2, { what: 'HLS and 180p ffmpegs' });
    expect(ffmpegs().filter((f) => f.cmdline.some((a) => a.includes('min(ih,180)'))).length).toBe(
      1,
    );
    expect((await relayOf(sessionId, dB))?.state).toBe('live');

    // Stop the session over the API: publisher disconnected, every relay stopped.
    expect((await call('POST', `/v1/sessions/${sessionId}/stop`)).status).toBe(202);
    await waitFor(async () => (await session(sessionId)).status === 'ended', { what: 'ended' });
    const ended = await session(sessionId);
    expect(ended.destinations.every((d) => d.state === 'stopped')).toBe(true);
    await waitFor(async () => (await fetch(hls)).status === 404, { what: 'HLS gone' });
    // Every relay ffmpeg ended with the session; the service (still running) started no other.
    await waitFor(
      async () =>
        ffmpegs().length === 0 &&
        ![...ffmpegsSeen.values()].some(stillRunning) &&
        (await hlsFfmpegs()) === 0,
      { what: 'relay ffmpegs ended' },
    );
    expect(ffmpegsSeen.size).toBeGreaterThanOrEqual(2);
  });

  it('refuses wrong and rotated keys, and a second publisher; rotation disconnects', async () => {
    const ch = await newChannel();
    const wrong = publishTestPattern(
      `rtmp://127.0.0.1:${rtmpPort}/live/live_not_a_real_key_000000`,
    );
    publishers.push(wrong);
    expect(await wrong.exited).not.toBe(0);

    const { pub, sessionId } = await goLive(ch.id, ch.streamKey);
    const second = publishTestPattern(`rtmp://127.0.0.1:${rtmpPort}/live/${ch.streamKey}`);
    publishers.push(second);
    expect(await second.exited).not.toBe(0);
    expect((await session(sessionId)).status).toBe('live');

    const rotated = await call('POST', `/v1/channels/${ch.id}/stream-key`);
    expect(rotated.status).toBe(201);
    secrets.push(String(rotated.body.streamKey));
    await pub.exited; // disconnected
    await waitFor(async () => (await session(sessionId)).status === 'ended', {
      what: 'session ended',
    });

    const old = publishTestPattern(`rtmp://127.0.0.1:${rtmpPort}/live/${ch.streamKey}`);
    publishers.push(old);
    expect(await old.exited).not.toBe(0);
    const sessions = await call('GET', `/v1/channels/${ch.id}/sessions`);
    expect((sessions.body.data as Json[]).length).toBe(1);
  });

  it('disconnects the publisher when its live channel is deleted', async () => {
    const ch = await newChannel();
    const { pub, sessionId } = await goLive(ch.id, ch.streamKey);
    expect((await call('DELETE', `/v1/channels/${ch.id}`)).status).toBe(204);
    await pub.exited; // disconnected by the ingest
    expect((await call('GET', `/v1/sessions/${sessionId}`)).status).toBe(404);
    expect((await call('GET', `/v1/channels/${ch.id}`)).status).toBe(404);
  });

  it('ends the session when the publisher leaves', async () => {
    const ch = await newChannel();
    const { pub, sessionId } = await goLive(ch.id, ch.streamKey);
    await pub.stop();
    await waitFor(async () => (await session(sessionId)).status === 'ended', { what: 'ended' });
    expect((await call('GET', `/v1/channels/${ch.id}`)).body.status).toBe('idle');
  });

  it('leaves a session live with its HLS rendition for the SIGTERM at the end', async () => {
    const ch = await newChannel();
    const site = await destination(ch.id, { name: 'Site', kind: 'brand_site' });
    const { sessionId } = await goLive(ch.id, ch.streamKey);
    await waitRelay(sessionId, site, 'live');
    await waitFor(async () => ffmpegs().length === 1, { what: 'the HLS ffmpeg running' });
    expect(await hlsFfmpegs()).toBe(1);
  });
});
