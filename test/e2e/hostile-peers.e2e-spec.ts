import { randomBytes } from 'node:crypto';
import * as net from 'node:net';
import {
  hasVideo,
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
  childProcesses,
  CastbridgeProcess,
  freePort,
  spawnCastbridge,
  waitFor,
} from '../support/processes';
import { parsePrometheusText, samplesOf } from '../support/prometheus-text';
import {
  chunkMessage,
  command,
  connectCommand,
  createStreamCommand,
  HostileServer,
  playCommand,
  publishCommand,
  RawRtmpClient,
  setChunkSize,
  startHostileServer,
} from '../support/rtmp-peers';
import { dropDatabase, flushQueuePrefix, testEnv } from '../support/test-env';
import { ACK_WINDOW } from '../../src/media/rtmp-push';

jest.setTimeout(240_000);

/**
 * Every door of the media edge tried as an attacker or a broken peer would, against the
 * built service in its default one-process deployment: the RTMP port (malformed
 * handshakes, garbage, malformed AMF, absurd chunk sizes and lengths, floods of idle
 * connections, a hijacking second publisher) and destination servers (malformed commands
 * after publish, stalls in the handshake, a server that stops reading). After each case
 * the process lives, no connection is left, and a real publisher still goes live and
 * fans out.
 */
describe('hostile peers at the media edge (real process)', () => {
  let app: CastbridgeProcess;
  let env: Record<string, string>;
  let rtmpPort = 0;
  let rtmpsPort = 0;
  let certificate: TestCertificate;
  let call: PartnerClient['call'];
  let sink: RtmpSink;
  let channel: { id: string; streamKey: string };
  const publishers: Publisher[] = [];
  const servers: HostileServer[] = [];
  const secrets: string[] = [];
  const ENCRYPTION_KEY = `k1:${randomBytes(32).toString('base64')}`;
  const SHOPIFY_SECRET = `shpss_${randomBytes(12).toString('hex')}`;

  async function metric(name: string, labels: Record<string, string> = {}): Promise<number> {
    const text = await (await fetch(`${app.baseUrl}/metrics`)).text();
    return samplesOf(parsePrometheusText(text), name, labels).reduce((n, s) => n + s.value, 0);
  }

  /** The process answers, and no unauthorized ingest connection is left. */
  async function assertHealthy(): Promise<void> {
    expect(app.child.exitCode).toBeNull();
    expect((await fetch(`${app.baseUrl}/health/live`)).status).toBe(200);
    await waitFor(
      async () => (await metric('castbridge_ingest_connections', { state: 'pending' })) === 0,
      {
        timeoutMs: 15_000,
        what: 'no pending ingest connection',
      },
    );
  }

  async function destination(body: Json): Promise<string> {
    const res = await call('POST', `/v1/channels/${channel.id}/destinations`, body);
    expect(res.status).toBe(201);
    return String(res.body.id);
  }

  async function liveSession(): Promise<string> {
    return waitFor(
      async () => {
        const c = await call('GET', `/v1/channels/${channel.id}`);
        return c.body.status === 'live' ? String(c.body.currentSessionId) : null;
      },
      { what: 'channel live', intervalMs: 200 },
    );
  }

  async function relay(sessionId: string, destinationId: string): Promise<Json | undefined> {
    const s = await call('GET', `/v1/sessions/${sessionId}`);
    return (s.body.destinations as Json[]).find((d) => d.destinationId === destinationId);
  }

  async function waitEnded(): Promise<void> {
    await waitFor(
      async () => (await call('GET', `/v1/channels/${channel.id}`)).body.status === 'idle',
      {
        what: 'channel idle',
      },
    );
  }

  /** A real creator goes live and reaches the sink, then leaves. */
  async function realPublisherFansOut(): Promise<void> {
    const pub = publishTestPattern(`rtmp://127.0.0.1:${rtmpPort}/live/${channel.streamKey}`);
    publishers.push(pub);
    await liveSession();
    await waitFor(() => hasVideo(`${sink.url}/main-key`), {
      what: 'video at the sink',
      timeoutMs: 20_000,
    });
    await pub.stop();
    await waitEnded();
  }

  beforeAll(async () => {
    rtmpPort = await freePort();
    rtmpsPort = await freePort();
    certificate = await makeTestCertificate();
    env = testEnv({
      RTMP_PORT: String(rtmpPort),
      RTMPS_PORT: String(rtmpsPort),
      RTMPS_CERT_FILE: certificate.cert,
      RTMPS_KEY_FILE: certificate.key,
      RTMP_MAX_CONNECTIONS: '1000',
      RTMP_MAX_CONNECTIONS_PER_IP: '50',
      ENCRYPTION_KEYS: ENCRYPTION_KEY,
      SHOPIFY_API_KEY: 'test-app',
      SHOPIFY_API_SECRET: SHOPIFY_SECRET,
      LOG_LEVEL: 'info',
    });
    secrets.push(ENCRYPTION_KEY.slice(3), SHOPIFY_SECRET);
    app = await spawnCastbridge(env);
    await waitReady(app.baseUrl);
    const partner = await newPartnerClient(app.baseUrl, 'Hostile');
    call = partner.call;
    secrets.push(partner.apiKey);
    sink = await startNginxSink();
    const res = await call('POST', '/v1/channels', { name: 'Target' });
    channel = { id: String(res.body.id), streamKey: (res.body.ingest as Json).streamKey as string };
    secrets.push(channel.streamKey);
    expect((res.body.ingest as Json).secureUrl).toBe(`rtmps://localhost:${rtmpsPort}/live`);
    await destination({
      name: 'main',
      kind: 'social_platform',
      url: sink.url,
      streamKey: 'main-key',
    });
    secrets.push('main-key');
  });

  afterAll(async () => {
    if (process.env.DEBUG_LOGS) console.log(app.output().slice(-300_000));
    for (const p of publishers) await p.stop();
    for (const s of servers) await s.close();
    const code = await app.stop('SIGTERM');
    expect(code).toBe(0);
    await sink?.stop();
    await stopAllMedia();
    const logs = app.output();
    for (const s of secrets) expect(logs).not.toContain(s);
    await dropDatabase(env.DATABASE_URL);
    await flushQueuePrefix(env.QUEUE_PREFIX);
  });

  describe('the RTMP port', () => {
    afterAll(async () => {
      await assertHealthy();
      await realPublisherFansOut();
    });

    it('closes malformed handshakes at once and silent ones at the handshake timeout', async () => {
      const http = await RawRtmpClient.connect(rtmpPort);
      http.send(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
      expect(await http.closedWithin(1000)).toBe(true);

      const started = Date.now();
      const silent = await RawRtmpClient.connect(rtmpPort);
      const halfC1 = await RawRtmpClient.connect(rtmpPort);
      halfC1.send(Buffer.concat([Buffer.from([3]), randomBytes(700)]));
      expect(await silent.closedWithin(8000)).toBe(true);
      const took = Date.now() - started;
      expect(await halfC1.closedWithin(1000)).toBe(true);
      // The 5 s handshake timeout (from the server's accept, after `started`), not a reset.
      expect(took).toBeGreaterThanOrEqual(5000);

      const afterHandshake = await RawRtmpClient.connect(rtmpPort);
      await afterHandshake.handshake();
      expect(await afterHandshake.closedWithin(13_000)).toBe(true); // 10 s to publish or play
      await assertHealthy();
    });

    it.each([
      ['random bytes after the handshake', randomBytes(8192)],
      ['truncated AMF', chunkMessage({ type: 20, payload: Buffer.from([0x02, 0xff, 0xff]) })],
      ['an unknown AMF marker', chunkMessage({ type: 20, payload: Buffer.from([0x11, 1, 2, 3]) })],
      ['connect with a null object', command({ cmd: 'connect', transId: 1, cmdObj: null })],
      ['connect with a tcUrl that is not a URL', connectCommand('live', { tcUrl: 42 })],
      [
        'publish with a stream name that is not a string',
        Buffer.concat([
          connectCommand(),
          command({ cmd: 'publish', transId: 3, cmdObj: null, streamName: false }, 1),
        ]),
      ],
      ['a Set Chunk Size of 0', setChunkSize(0)],
      ['a Set Chunk Size of 1', setChunkSize(1)],
      ['a Set Chunk Size of 2^31', setChunkSize(0x80000000)],
      [
        'a 16 MB message announced',
        chunkMessage({ type: 9, payload: Buffer.alloc(10), length: 0xffffff }),
      ],
      [
        'sixty chunk streams',
        Buffer.concat(
          Array.from({ length: 60 }, (_, i) =>
            chunkMessage({ cid: 4 + i, type: 8, payload: Buffer.alloc(2) }),
          ),
        ),
      ],
      [
        'deeply nested AMF objects',
        chunkMessage({
          type: 20,
          payload: Buffer.concat([
            Buffer.from([0x02, 0x00, 0x07]),
            Buffer.from('connect'),
            Buffer.from([0x00, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f]),
            Buffer.concat(
              Array.from({ length: 3000 }, () => Buffer.from([0x03, 0x00, 0x01, 0x61])),
            ),
          ]),
          chunkSize: 60_000,
        }),
      ],
    ])('ends a connection that sends %s (no key), and only that one', async (_what, bytes) => {
      const bystander = await RawRtmpClient.connect(rtmpPort);
      await bystander.handshake();
      const c = await RawRtmpClient.connect(rtmpPort);
      await c.handshake();
      c.send(bytes);
      expect(await c.closedWithin(3000)).toBe(true);
      expect(c.text()).not.toContain('Publish.Start');
      // The other unauthenticated connection is untouched (until its own timeout).
      expect(bystander.isClosed).toBe(false);
      bystander.send(connectCommand());
      expect(await bystander.waitForText('NetConnection.Connect.Success', 3000)).toBe(true);
      bystander.destroy();
      expect(app.child.exitCode).toBeNull();
      expect((await fetch(`${app.baseUrl}/health/live`)).status).toBe(200);
    });

    it('caps unauthenticated connections per address, times out a thousand idle ones, and a creator still goes live', async () => {
      // 18 addresses × 60 connections: 50 per address are admitted, 10 refused at once.
      const ADDRESSES = Array.from({ length: 18 }, (_, i) => `127.0.3.${i + 1}`);
      const PER_ADDRESS = 60;
      const ADMITTED = 50; // RTMP_MAX_CONNECTIONS_PER_IP
      interface Peer {
        socket: net.Socket;
        address: string;
        openedAt: number;
        closedAt: number | null;
      }
      const open = (address: string) =>
        new Promise<Peer>((resolve) => {
          const socket = net.createConnection({
            port: rtmpPort,
            host: '127.0.0.1',
            localAddress: address,
          });
          const peer: Peer = { socket, address, openedAt: Date.now(), closedAt: null };
          socket.on('error', () => undefined); // a refused one may see a reset: it still closes
          socket.once('connect', () => {
            peer.openedAt = Date.now();
            resolve(peer);
          });
          socket.once('close', () => {
            peer.closedAt = Date.now();
            resolve(peer);
          });
        });
      const peers = await Promise.all(
        ADDRESSES.flatMap((a) => Array.from({ length: PER_ADDRESS }, () => open(a))),
      );
      let pub: Publisher | null = null;
      try {
        const closedFrom = (address: string) =>
          peers.filter((p) => p.address === address && p.closedAt !== null).length;

        // Exactly 10 per address closed while the 900 admitted are all still pending: the
        // server counts 900 (no handshake has timed out yet), so each closed one was refused.
        // (After the 5 s handshake timeout this can no longer hold: the wait fails.)
        await waitFor(
          async () =>
            ADDRESSES.every((a) => closedFrom(a) === PER_ADDRESS - ADMITTED) &&
            (await metric('castbridge_ingest_connections', { state: 'pending' })) ===
              ADDRESSES.length * ADMITTED,
          { what: '10 refused per address, 900 pending', timeoutMs: 6000, intervalMs: 50 },
        );
        const admitted = peers.filter((p) => p.closedAt === null);
        expect(admitted.length).toBe(ADDRESSES.length * ADMITTED);

        // Garbage senders among them (not RTMP version 3): closed at once, the others untouched.
        const garbage = admitted.filter((_, i) => i % 45 === 0);
        const idle = admitted.filter((_, i) => i % 45 !== 0);
        expect(garbage.length).toBe(20);
        for (const p of garbage)
          p.socket.write(Buffer.concat([Buffer.from([0x47]), randomBytes(2999)]));
        await waitFor(
          async () =>
            garbage.every((p) => p.closedAt !== null) &&
            idle.every((p) => p.closedAt === null) &&
            (await metric('castbridge_ingest_connections', { state: 'pending' })) === idle.length,
          {
            what: 'garbage senders closed, 880 idle still pending',
            timeoutMs: 6000,
            intervalMs: 50,
          },
        );

        // A real creator publishes during the flood, from its own address.
        pub = publishTestPattern(`rtmp://127.0.0.1:${rtmpPort}/live/${channel.streamKey}`);
        publishers.push(pub);
        await liveSession();
        await waitFor(() => hasVideo(`${sink.url}/main-key`), {
          what: 'video during the flood',
          timeoutMs: 20_000,
        });
        // Every idle one is closed by the server at its handshake timeout (5 s), none by us.
        await waitFor(async () => idle.every((p) => p.closedAt !== null), {
          what: 'idle connections closed',
          timeoutMs: 15_000,
        });
        const earliest = Math.min(...idle.map((p) => (p.closedAt as number) - p.openedAt));
        expect(earliest).toBeGreaterThanOrEqual(4500);
        for (const p of peers) p.socket.destroy();
        expect(await metric('castbridge_ingest_connections', { state: 'publishing' })).toBe(1);
        expect(await metric('castbridge_ingest_connections', { state: 'pending' })).toBe(0);
      } finally {
        // Whatever failed, the next cases start from an idle channel and no flood.
        for (const p of peers) p.socket.destroy();
        if (pub) {
          await pub.stop();
          await waitEnded();
        }
      }
      await assertHealthy();
    });

    it('refuses a second publisher on a live key at once, and none of its media reaches the broadcast', async () => {
      const pub = publishTestPattern(`rtmp://127.0.0.1:${rtmpPort}/live/${channel.streamKey}`, {
        size: '640x360',
      });
      publishers.push(pub);
      const sessionId = await liveSession();
      await waitFor(() => hasVideo(`${sink.url}/main-key`), {
        what: 'first publisher at the sink',
      });

      // A raw hijacker: publish on the live key, then send media anyway.
      const raw = await RawRtmpClient.connect(rtmpPort);
      await raw.handshake();
      raw.send(
        Buffer.concat([connectCommand(), createStreamCommand(), publishCommand(channel.streamKey)]),
      );
      expect(await raw.closedWithin(3000)).toBe(true);
      expect(raw.text()).not.toContain('NetStream.Publish.Start');

      // An ffmpeg hijacker with another picture size: refused; the sink keeps 640x360.
      const hijacker = publishTestPattern(
        `rtmp://127.0.0.1:${rtmpPort}/live/${channel.streamKey}`,
        {
          size: '320x240',
        },
      );
      publishers.push(hijacker);
      const code = await Promise.race([
        hijacker.exited,
        new Promise((r) => setTimeout(() => r('still running'), 8000)),
      ]);
      expect(code).not.toBe('still running');
      const streams = await probe(`${sink.url}/main-key`);
      expect(streams.find((s) => s.codec_type === 'video')?.width).toBe(640);
      expect((await call('GET', `/v1/channels/${channel.id}`)).body.currentSessionId).toBe(
        sessionId,
      );
      await pub.stop();
      await waitEnded();
    });

    it('does not let anyone play a live key or an unknown internal name', async () => {
      for (const path of [
        ['live', channel.streamKey],
        ['internal', 'nope'],
      ] as const) {
        const c = await RawRtmpClient.connect(rtmpPort);
        await c.handshake();
        c.send(
          Buffer.concat([connectCommand(path[0]), createStreamCommand(), playCommand(path[1])]),
        );
        expect(await c.closedWithin(3000)).toBe(true);
        expect(c.text()).not.toContain('NetStream.Play.Start');
      }
    });

    it('takes a publish over RTMPS, seen at the sink by ffprobe', async () => {
      const pub = publishTestPattern(`rtmps://127.0.0.1:${rtmpsPort}/live/${channel.streamKey}`);
      publishers.push(pub);
      await liveSession();
      const streams = await waitFor(
        async () => {
          const s = await probe(`${sink.url}/main-key`);
          return s.some((x) => x.codec_type === 'video') ? s : null;
        },
        { what: 'RTMPS publish at the sink', timeoutMs: 20_000 },
      );
      expect(streams.map((s) => s.codec_name).sort()).toEqual(['aac', 'h264']);
      // A TLS client that never handshakes is timed out like a TCP one.
      const silent = await RawRtmpClient.connect(rtmpsPort);
      expect(await silent.closedWithin(8000)).toBe(true);
      await pub.stop();
      await waitEnded();
    });
  });

  describe('destination servers', () => {
    let sessionId: string;
    let pub: Publisher;
    const hostile: Array<{ name: string; id: string; server: HostileServer }> = [];

    beforeAll(async () => {
      const garbage: Array<[string, Parameters<typeof startHostileServer>[0]]> = [
        [
          'malformed command',
          {
            mode: 'publish',
            after: chunkMessage({ type: 20, payload: Buffer.from([2, 0xff, 0xff]) }),
          },
        ],
        ['chunk size 0', { mode: 'publish', after: setChunkSize(0) }],
        [
          'absurd length',
          {
            mode: 'publish',
            after: chunkMessage({ type: 20, payload: Buffer.alloc(4), length: 0xffffff }),
          },
        ],
        [
          'close command',
          { mode: 'publish', after: command({ cmd: 'close', transId: 0, cmdObj: null }) },
        ],
        ['random bytes', { mode: 'publish', after: randomBytes(65536) }],
        ['silent', { mode: 'silent' }],
        ['handshake only', { mode: 'handshake-only' }],
      ];
      for (const [name, opts] of garbage) {
        const server = await startHostileServer(opts);
        servers.push(server);
        const id = await destination({
          name,
          kind: 'partner_shop',
          url: server.url,
          streamKey: `k-${hostile.length}`,
        });
        hostile.push({ name, id, server });
      }
      pub = publishTestPattern(`rtmp://127.0.0.1:${rtmpPort}/live/${channel.streamKey}`);
      publishers.push(pub);
      sessionId = await liveSession();
    });

    afterAll(async () => {
      await pub.stop();
      await waitEnded();
      await assertHealthy();
      await realPublisherFansOut();
    });

    it('a server that breaks the protocol fails its own relay only; the others keep streaming', async () => {
      for (const h of hostile) {
        const r = await waitFor(
          async () => {
            const x = await relay(sessionId, h.id);
            return x && x.state === 'retrying' && x.lastError ? x : null;
          },
          { what: `relay to "${h.name}" retrying`, timeoutMs: 30_000, intervalMs: 250 },
        );
        expect(String(r.lastError)).not.toContain(`k-`); // never the key
      }
      expect(app.child.exitCode).toBeNull();
      const main = (await call('GET', `/v1/sessions/${sessionId}`)).body.destinations as Json[];
      const mainRelay = main.find((d) => !hostile.some((h) => h.id === d.destinationId));
      expect(mainRelay).toMatchObject({ state: 'live', attempts: 0 });
      // 3 s of the main sink at 30 fps (~90 frames), no hole of half a second.
      const gap = await maxVideoGap(`${sink.url}/main-key`, 3);
      expect(gap.frames).toBeGreaterThan(60);
      expect(gap.maxGap).toBeLessThan(0.5);
      // Each retry closed the connection before it: no socket piles up at any server.
      for (const h of hostile) expect(h.server.open()).toBeLessThanOrEqual(1);
    });

    it('a relay stopped while it connects leaves no socket behind', async () => {
      for (const h of hostile) {
        expect(
          (
            await call('PATCH', `/v1/channels/${channel.id}/destinations/${h.id}`, {
              enabled: false,
            })
          ).status,
        ).toBe(200);
      }
      await waitFor(async () => hostile.every((h) => h.server.open() === 0), {
        what: 'every hostile server without a connection',
        timeoutMs: 10_000,
      });
    });

    it('a destination that stops reading is retried within 15 s, the others untouched', async () => {
      const stuck = await startNginxSink();
      const id = await destination({
        name: 'stuck',
        kind: 'social_platform',
        url: stuck.url,
        streamKey: 'stuck-key',
      });
      // The acknowledgement rule applies once the server has acknowledged something
      // (servers that never do are left to the TCP rule): let it read a few windows first.
      await waitFor(
        async () => {
          const r = await relay(sessionId, id);
          return r?.state === 'live' && Number(r.bytesSent) > 3 * ACK_WINDOW;
        },
        { what: 'stuck relay live and acknowledged' },
      );
      process.kill(stuck.pid()!, 'SIGSTOP');
      const stoppedAt = Date.now();
      try {
        const r = await waitFor(
          async () => {
            const x = await relay(sessionId, id);
            return x && x.state !== 'live' ? x : null;
          },
          { what: 'stalled relay leaves live', timeoutMs: 30_000, intervalMs: 250 },
        );
        expect(Date.now() - stoppedAt).toBeLessThan(15_000);
        expect(String(r.lastError)).toMatch(/stopped reading|timed out/);
        const main = (await call('GET', `/v1/sessions/${sessionId}`)).body.destinations as Json[];
        expect(main.find((d) => d.destinationId !== id && d.state === 'live')).toMatchObject({
          attempts: 0,
        });
      } finally {
        process.kill(stuck.pid()!, 'SIGCONT');
      }
      await waitFor(async () => (await relay(sessionId, id))?.state === 'live', {
        what: 'relay live again once the destination reads',
        timeoutMs: 40_000,
      });
      await call('DELETE', `/v1/channels/${channel.id}/destinations/${id}`);
      await stuck.stop();
    });

    it('transcodes: ffmpeg has no URL, no key and no secret of ours; RTMPS is verified', async () => {
      const small = await startNginxSink();
      const untrusted = await startRtmpsSink(certificate); // not trusted by the service
      const xid = await destination({
        name: 'small',
        kind: 'social_platform',
        url: small.url,
        streamKey: 'xcode-secret-key',
        profile: { maxHeight: 180, videoBitrateKbps: 300 },
      });
      const tid = await destination({
        name: 'untrusted',
        kind: 'social_platform',
        url: untrusted.url,
        streamKey: 'tls-secret-key',
        profile: { maxHeight: 180 },
      });
      secrets.push('xcode-secret-key', 'tls-secret-key');
      await waitFor(async () => (await relay(sessionId, xid))?.state === 'live', {
        what: 'transcoded relay live',
        timeoutMs: 30_000,
      });
      const streams = await waitFor(
        async () => {
          const s = await probe(`${small.url}/xcode-secret-key`);
          return s.find((x) => x.codec_type === 'video') ? s : null;
        },
        { what: 'transcoded video at its sink' },
      );
      expect(streams.find((s) => s.codec_type === 'video')?.height).toBe(180);
      const ffmpegs = childProcesses(app.child.pid!, 'ffmpeg');
      expect(ffmpegs.length).toBeGreaterThan(0);
      for (const f of ffmpegs) {
        const line = f.cmdline.join(' ');
        expect(line).not.toMatch(/rtmps?:\/\//);
        for (const s of [...secrets, 'xcode-secret-key']) {
          expect(line).not.toContain(s);
          expect(f.environ.join('\n')).not.toContain(s);
        }
        expect(f.environ.map((e) => e.split('=')[0])).toEqual(['PATH']);
      }
      const tls = await waitFor(
        async () => {
          const r = await relay(sessionId, tid);
          return r?.state === 'retrying' && r.lastError ? r : null;
        },
        { what: 'untrusted RTMPS transcode refused', timeoutMs: 30_000 },
      );
      expect(String(tls.lastError)).toMatch(/certificate/i);
      await call('DELETE', `/v1/channels/${channel.id}/destinations/${xid}`);
      await call('DELETE', `/v1/channels/${channel.id}/destinations/${tid}`);
      await waitFor(async () => childProcesses(app.child.pid!, 'ffmpeg').length === 0, {
        what: 'no ffmpeg left',
      });
      await small.stop();
      await untrusted.stop();
    });
  });
});
