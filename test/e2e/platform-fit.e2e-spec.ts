import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  hasVideo,
  keyframeTimes,
  makeTestCertificate,
  maxVideoGap,
  probe,
  publishTestPattern,
  Publisher,
  RtmpSink,
  startNginxSink,
  startRtmpsSink,
  stopAllMedia,
  TestCertificate,
} from '../support/media';
import { Json, newPartnerClient, PartnerClient, waitReady } from '../support/partner-client';
import {
  CastbridgeProcess,
  childProcesses,
  freePort,
  spawnCastbridge,
  waitFor,
} from '../support/processes';
import { dropDatabase, flushQueuePrefix, testEnv } from '../support/test-env';
import { WebhookReceiver } from '../support/webhook-receiver';

jest.setTimeout(240_000);

const run = promisify(execFile);
const FFMPEG = process.env.FFMPEG_PATH ?? 'ffmpeg';

/** Mean luma (0–255) of the top `rows` of one frame of a live stream. */
async function topRowsLuma(url: string, width: number, rows: number): Promise<number> {
  const { stdout } = await run(
    FFMPEG,
    [
      '-v',
      'error',
      '-rw_timeout',
      '8000000',
      '-i',
      url,
      '-frames:v',
      '1',
      '-vf',
      `crop=${width}:${rows}:0:0,format=gray`,
      '-f',
      'rawvideo',
      'pipe:1',
    ],
    { encoding: 'buffer', timeout: 20_000, maxBuffer: 16 * 1024 * 1024 },
  );
  const bytes = stdout as unknown as Buffer;
  expect(bytes.length).toBe(width * rows);
  return bytes.reduce((a, b) => a + b, 0) / bytes.length;
}

interface Warning {
  code: string;
  message: string;
}
interface RelayView {
  destinationId: string;
  state: string;
  warnings: Warning[];
}

/**
 * Platform fit through the built service (PRODUCT.md item 8): presets, shapes, the
 * pre-flight check and shared encoders, with a real ffmpeg publisher, real nginx-rtmp
 * sinks (one behind TLS) and ffprobe. At most three encoders run at once (the publisher
 * included), at 640x360 or 1280x720, for the machine's two shared cores.
 */
describe('platform fit (real processes)', () => {
  let app: CastbridgeProcess;
  let env: Record<string, string>;
  let rtmpPort = 0;
  let certificate: TestCertificate;
  let call: PartnerClient['call'];
  let receiver: WebhookReceiver;
  const sinks: RtmpSink[] = [];
  const publishers: Publisher[] = [];

  async function relays(sessionId: string): Promise<RelayView[]> {
    return (await call('GET', `/v1/sessions/${sessionId}`)).body.destinations as RelayView[];
  }

  function waitRelay(
    sessionId: string,
    destinationId: string,
    ok: (r: RelayView) => boolean,
    what: string,
    timeoutMs = 30_000,
  ): Promise<RelayView> {
    return waitFor(
      async () => {
        const r = (await relays(sessionId)).find((d) => d.destinationId === destinationId);
        return r && ok(r) ? r : null;
      },
      { timeoutMs, intervalMs: 250, what },
    );
  }

  async function destination(channelId: string, body: Json): Promise<string> {
    const res = await call('POST', `/v1/channels/${channelId}/destinations`, body);
    expect(res.status).toBe(201);
    return String(res.body.id);
  }

  async function goLive(opts: Parameters<typeof publishTestPattern>[1]): Promise<{
    channelId: string;
    sessionId: string;
    publisher: Publisher;
    start(): Promise<string>;
  }> {
    const ch = await call('POST', '/v1/channels', { name: 'Show' });
    const channelId = String(ch.body.id);
    const key = (ch.body.ingest as { streamKey: string }).streamKey;
    const out = {
      channelId,
      sessionId: '',
      publisher: null as unknown as Publisher,
      start: async () => {
        out.publisher = publishTestPattern(`rtmp://127.0.0.1:${rtmpPort}/live/${key}`, opts);
        publishers.push(out.publisher);
        out.sessionId = await waitFor(
          async () => {
            const c = await call('GET', `/v1/channels/${channelId}`);
            return c.body.status === 'live' ? String(c.body.currentSessionId) : null;
          },
          { what: 'channel live', intervalMs: 200 },
        );
        return out.sessionId;
      },
    };
    return out;
  }

  beforeAll(async () => {
    rtmpPort = await freePort();
    certificate = await makeTestCertificate();
    env = testEnv({
      RTMP_PORT: String(rtmpPort),
      NODE_EXTRA_CA_CERTS: certificate.cert,
      WEBHOOK_RETRY_BASE: '100ms',
    });
    app = await spawnCastbridge(env);
    await waitReady(app.baseUrl);
    call = (await newPartnerClient(app.baseUrl, 'Fit')).call;
    receiver = await WebhookReceiver.start();
    const endpoint = await call('POST', '/v1/webhook-endpoints', {
      url: receiver.url,
      events: ['destination.warning'],
    });
    expect(endpoint.status).toBe(201);
    receiver.trust(String(endpoint.body.secret));
  });

  /** The service's ffmpeg children (its encoders and packagers), from /proc. */
  const ffmpegs = () => childProcesses(app.child.pid!, 'ffmpeg');

  afterAll(async () => {
    for (const p of publishers) await p.stop();
    if (process.env.DEBUG_LOGS) console.log(app.output().slice(-20000));
    expect(await app.stop('SIGTERM')).toBe(0);
    for (const s of sinks) await s.stop();
    await stopAllMedia();
    await receiver.close();
    await dropDatabase(env.DATABASE_URL);
    await flushQueuePrefix(env.QUEUE_PREFIX);
  });

  it('pre-flight: a 6 s key-frame interval is warned on Facebook (API and webhook); "auto" fixes it', async () => {
    const tls = await startRtmpsSink(certificate);
    const plain = await startNginxSink();
    sinks.push(tls, plain);
    const live = await goLive({ keyframeSeconds: 6 });
    const fb = await destination(live.channelId, {
      name: 'Facebook',
      kind: 'social_platform',
      url: tls.url,
      streamKey: 'fb_key_0123456789',
      preset: 'facebook',
    });
    // Facebook over rtmp://: warned, and no transcode fixes it.
    const fbPlain = await destination(live.channelId, {
      name: 'Facebook (rtmp)',
      kind: 'social_platform',
      url: plain.url,
      streamKey: 'fb_plain_0123456789',
      preset: 'facebook',
      profile: 'auto',
    });
    const sessionId = await live.start();

    const warned = await waitRelay(
      sessionId,
      fb,
      (r) => r.state === 'live' && r.warnings.some((w) => w.code === 'KEYFRAME_INTERVAL_TOO_LONG'),
      'facebook warned about its key frames',
    );
    expect(warned.warnings).toEqual([
      {
        code: 'KEYFRAME_INTERVAL_TOO_LONG',
        message: expect.stringMatching(
          /^key frames every \d+(\.\d)? s; Facebook Live asks for one every 2 s$/,
        ),
      },
    ]);
    await receiver.waitFor(
      (r) =>
        r.accepted.some(
          (w) =>
            w.payload?.type === 'destination.warning' &&
            w.payload.data.destinationId === fb &&
            (w.payload.data.warnings as Warning[]).some(
              (x) => x.code === 'KEYFRAME_INTERVAL_TOO_LONG',
            ),
        ),
      { what: 'destination.warning for facebook', timeoutMs: 20_000 },
    );
    const event = receiver.accepted.find((w) => w.payload?.data.destinationId === fb)!;
    expect(event.payload!.data).toEqual({
      sessionId,
      destinationId: fb,
      warnings: warned.warnings,
    });

    // "auto" transcodes what it can fix (the key frames), not the scheme.
    const rtmp = await waitRelay(
      sessionId,
      fbPlain,
      (r) => r.state === 'live' && r.warnings.length > 0,
      'facebook over rtmp warned',
    );
    expect(rtmp.warnings.map((w) => w.code)).toEqual(['SCHEME_NOT_ALLOWED']);

    // profile "auto" on the RTMPS one: it restarts transcoding, key frames every 2 s.
    expect(
      (
        await call('PATCH', `/v1/channels/${live.channelId}/destinations/${fb}`, {
          profile: 'auto',
        })
      ).status,
    ).toBe(200);
    await waitRelay(sessionId, fb, (r) => r.state === 'live' && r.warnings.length === 0, 'fixed');
    await receiver.waitFor(
      (r) =>
        r.accepted.some(
          (w) =>
            w.payload?.data.destinationId === fb &&
            (w.payload.data.warnings as Warning[]).length === 0,
        ),
      { what: 'destination.warning with no warnings', timeoutMs: 20_000 },
    );
    const url = `${tls.plain.url}/fb_key_0123456789`;
    const times = await waitFor(
      async () => {
        const t = await keyframeTimes(url, 7);
        return t.length >= 3 ? t : null;
      },
      { what: 'key frames at the sink', timeoutMs: 40_000, intervalMs: 500 },
    );
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(2.05);
    expect((await probe(url)).find((s) => s.codec_type === 'video')).toMatchObject({
      width: 640,
      height: 360,
    });
    await live.publisher.stop();
  });

  it('shapes: a 16:9 publish arrives 720×1280 at TikTok, padded or blurred; crop to 1:1', async () => {
    const [pad, blur] = [await startNginxSink(), await startNginxSink()];
    sinks.push(pad, blur);
    const live = await goLive({ size: '1280x720', fps: 15, bitrateKbps: 1200 });
    const dPad = await destination(live.channelId, {
      name: 'TikTok',
      kind: 'social_platform',
      url: pad.url,
      streamKey: 'tt_pad_0123456789',
      preset: 'tiktok',
      profile: 'auto',
    });
    const dBlur = await destination(live.channelId, {
      name: 'TikTok (blur)',
      kind: 'social_platform',
      url: blur.url,
      streamKey: 'tt_blur_0123456789',
      preset: 'tiktok',
      profile: { fit: 'blur' },
    });
    const sessionId = await live.start();
    for (const d of [dPad, dBlur])
      await waitRelay(sessionId, d, (r) => r.state === 'live' && r.warnings.length === 0, 'live');

    const frame = async (url: string) =>
      waitFor(
        async () =>
          (await probe(url, 8000).catch(() => [])).find((s) => s.codec_type === 'video') ?? null,
        { what: `video at ${url}`, timeoutMs: 30_000, intervalMs: 500 },
      );
    const padUrl = `${pad.url}/tt_pad_0123456789`;
    const blurUrl = `${blur.url}/tt_blur_0123456789`;
    expect(await frame(padUrl)).toMatchObject({ codec_name: 'h264', width: 720, height: 1280 });
    expect(await frame(blurUrl)).toMatchObject({ codec_name: 'h264', width: 720, height: 1280 });
    // The 720×405 picture sits in the middle: above it, black bars or its blurred copy.
    expect(await topRowsLuma(padUrl, 720, 200)).toBeLessThan(20);
    expect(await topRowsLuma(blurUrl, 720, 200)).toBeGreaterThan(40);

    expect(
      (
        await call('PATCH', `/v1/channels/${live.channelId}/destinations/${dBlur}`, {
          profile: { aspect: '1:1', fit: 'crop' },
        })
      ).status,
    ).toBe(200);
    await waitFor(
      async () => {
        const v = (await probe(blurUrl, 8000).catch(() => [])).find(
          (s) => s.codec_type === 'video',
        );
        return v?.width === 720 && v.height === 720;
      },
      { what: '720×720 after the crop', timeoutMs: 40_000, intervalMs: 500 },
    );
    // Cropped, not padded: the picture reaches the top.
    expect(await topRowsLuma(blurUrl, 720, 50)).toBeGreaterThan(40);
    // The 1:1 destination is warned that TikTok shows 9:16 (the profile asked for it).
    const cropped = await waitRelay(sessionId, dBlur, (r) => r.warnings.length > 0, 'warned');
    expect(cropped.warnings.map((w) => w.code)).toEqual(['ASPECT_MISMATCH']);
    await live.publisher.stop();
    await waitFor(async () => ffmpegs().length === 0, { what: 'encoders gone' });
  });

  it('three destinations with the same output run one encoder; a killed sink leaves it and the others alone', async () => {
    const [a, b, c] = [await startNginxSink(), await startNginxSink(), await startNginxSink()];
    sinks.push(a, b, c);
    const live = await goLive({});
    const keys = ['li_a_0123456789', 'li_b_0123456789', 'li_c_0123456789'];
    const ids: string[] = [];
    for (const [i, sink] of [a, b, c].entries()) {
      ids.push(
        await destination(live.channelId, {
          name: `LinkedIn ${i}`,
          kind: 'social_platform',
          url: sink.url,
          streamKey: keys[i],
          preset: 'linkedin',
          profile: { maxHeight: 240 },
        }),
      );
    }
    const [dA, dB, dC] = ids as [string, string, string];
    const sessionId = await live.start();
    for (const d of ids) await waitRelay(sessionId, d, (r) => r.state === 'live', 'live');
    const encoders = await waitFor(async () => (ffmpegs().length === 1 ? ffmpegs() : null), {
      what: 'one encoder',
    });
    const pid = encoders[0]!.pid;
    // ffmpeg has no URL or key: it writes FLV to the service, which pushes it.
    expect(encoders[0]!.cmdline.join(' ')).not.toMatch(/rtmps?:|li_[abc]_/);
    for (const [i, sink] of [a, b, c].entries()) {
      const v = (await probe(`${sink.url}/${keys[i]}`)).find((s) => s.codec_type === 'video');
      expect(v).toMatchObject({ width: 426, height: 240 });
    }

    // Sink B dies: its relay retries on its own; A and C keep receiving, same encoder.
    const gapA = maxVideoGap(`${a.url}/${keys[0]}`, 6);
    const gapC = maxVideoGap(`${c.url}/${keys[2]}`, 6);
    await new Promise((r) => setTimeout(r, 1000));
    await b.stop();
    await waitRelay(sessionId, dB, (r) => r.state === 'retrying', 'B retrying');
    for (const gap of [await gapA, await gapC]) {
      expect(gap.frames).toBeGreaterThan(120);
      expect(gap.maxGap).toBeLessThan(0.5);
    }
    expect(ffmpegs().map((p) => p.pid)).toEqual([pid]);
    for (const d of [dA, dC])
      expect((await relays(sessionId)).find((r) => r.destinationId === d)?.state).toBe('live');

    // C removed: the encoder goes on for A (and B's retries).
    expect((await call('DELETE', `/v1/channels/${live.channelId}/destinations/${dC}`)).status).toBe(
      204,
    );
    await waitRelay(sessionId, dC, (r) => r.state === 'stopped', 'C stopped');
    expect(ffmpegs().map((p) => p.pid)).toEqual([pid]);
    expect(await hasVideo(`${a.url}/${keys[0]}`)).toBe(true);

    // ffmpeg itself dies: it restarts for the destinations it has; A's relay stays live.
    process.kill(pid, 'SIGKILL');
    const restarted = await waitFor(
      async () => {
        const now = ffmpegs();
        return now.length === 1 && now[0]!.pid !== pid ? now[0]!.pid : null;
      },
      { what: 'the encoder restarted' },
    );
    expect(restarted).not.toBe(pid);
    await waitFor(() => hasVideo(`${a.url}/${keys[0]}`), { what: 'A receives again' });
    const after = await maxVideoGap(`${a.url}/${keys[0]}`, 4);
    expect(after.frames).toBeGreaterThan(60);
    expect((await relays(sessionId)).find((r) => r.destinationId === dA)?.state).toBe('live');

    // The last destination leaving stops the encoder.
    for (const d of [dA, dB])
      await call('PATCH', `/v1/channels/${live.channelId}/destinations/${d}`, { enabled: false });
    await waitFor(async () => ffmpegs().length === 0, { what: 'encoder stopped' });
    await live.publisher.stop();
  });

  it('the brand-site rendition packages the encode it shares with a destination of the same output', async () => {
    const sink = await startNginxSink();
    sinks.push(sink);
    const live = await goLive({});
    const dSocial = await destination(live.channelId, {
      name: 'Shop',
      kind: 'partner_shop',
      url: sink.url,
      streamKey: 'shop_0123456789',
      profile: { maxHeight: 240 },
    });
    const dSite = await destination(live.channelId, {
      name: 'Site',
      kind: 'brand_site',
      profile: { maxHeight: 240 },
    });
    const sessionId = await live.start();
    for (const d of [dSocial, dSite])
      await waitRelay(sessionId, d, (r) => r.state === 'live', 'live');
    const procs = await waitFor(async () => (ffmpegs().length === 2 ? ffmpegs() : null), {
      what: 'an encoder and a packager',
    });
    const lines = procs.map((p) => p.cmdline.join(' '));
    expect(lines.filter((l) => l.includes('libx264'))).toHaveLength(1);
    const packager = lines.find((l) => l.includes('-f hls'))!;
    expect(packager).toContain('-c copy');
    expect(packager).not.toContain('libx264');
    const hls = `${app.baseUrl}/hls/${dSite}/index.m3u8`;
    await waitFor(async () => (await fetch(hls)).status === 200, { what: 'HLS playlist' });
    expect((await probe(hls)).find((s) => s.codec_type === 'video')).toMatchObject({ height: 240 });
    await live.publisher.stop();
    await waitFor(async () => ffmpegs().length === 0, { what: 'ffmpegs gone' });
  });
});
