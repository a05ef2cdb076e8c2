import * as net from 'node:net';
import { MediaService } from '../../src/media/media.service';
import { startPush } from '../../src/media/rtmp-push';
import { publishTestPattern, startNginxSink, stopAllMedia, RtmpSink } from '../support/media';
import { waitFor } from '../support/processes';
import { HANDSHAKE_SIZE, mutate, prng, startRecordingProxy } from '../support/rtmp-peers';

jest.setTimeout(180_000);

/** Seconds each fuzz loop runs (CI keeps the default; FUZZ_SECONDS=300 for a long run). */
const FUZZ_SECONDS = Number(process.env.FUZZ_SECONDS ?? 12);
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);
const CONCURRENCY = 16;

function resources(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) out[r] = (out[r] ?? 0) + 1;
  return out;
}

/**
 * Recorded real RTMP sessions, mutated (flips, inserted and removed bytes, lying length
 * fields, truncation) and replayed for a bounded time: against the ingest (what an ffmpeg
 * publisher sent) and against the push client (what nginx-rtmp answered a publish). No
 * case may throw out of its connection, and nothing (socket, timer, stream) may be left.
 */
describe('fuzzing the RTMP door and the push client with mutated real sessions', () => {
  const uncaught: unknown[] = [];
  const onUncaught = (e: unknown) => uncaught.push(e);
  let media: MediaService;
  let port = 0;
  let sink: RtmpSink;
  let publishes = 0;

  beforeAll(async () => {
    process.on('uncaughtException', onUncaught);
    media = new MediaService();
    ({ port } = await media.listen(
      {
        host: '127.0.0.1',
        port: 0,
        limits: { handshakeTimeoutMs: 1000, readyTimeoutMs: 1500, maxPendingPerAddress: 1000 },
      },
      {
        authorizePublish: async (a) => (a.name === 'fuzzkey' ? `fuzz-${publishes++}` : null),
        published: () => undefined,
        publishEnded: () => undefined,
      },
    ));
    sink = await startNginxSink();

    console.log(`rtmp fuzz: seed ${SEED}, ${FUZZ_SECONDS} s per loop`);
  });

  afterAll(async () => {
    process.off('uncaughtException', onUncaught);
    await media.close();
    await sink.stop();
    await stopAllMedia();
  });

  /** Runs `one(i)` CONCURRENCY at a time until the time is up; returns the case count. */
  async function loop(one: (i: number) => Promise<void>): Promise<number> {
    const deadline = Date.now() + FUZZ_SECONDS * 1000;
    let i = 0;
    const worker = async () => {
      while (Date.now() < deadline) await one(i++);
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    return i;
  }

  it('the ingest survives mutated publishes: every connection ends, nothing is left', async () => {
    const proxy = await startRecordingProxy(port);
    const pub = publishTestPattern(`rtmp://127.0.0.1:${proxy.port}/live/fuzzkey`);
    await waitFor(async () => media.hub.has('fuzz-0'), { what: 'recorded publish live' });
    await new Promise((r) => setTimeout(r, 2000));
    await pub.stop();
    const recorded = proxy.toServer();
    await proxy.close();
    expect(recorded.length).toBeGreaterThan(50_000);
    await waitFor(async () => media.ingestCounts()?.connections === 0, {
      what: 'recording closed',
    });
    const before = resources();

    const rand = prng(SEED);
    const cases = await loop(async () => {
      const keep = rand() < 0.85 ? 1 + 2 * HANDSHAKE_SIZE : 0;
      let bytes = mutate(recorded, rand, keep);
      if (rand() < 0.5) bytes = mutate(bytes, rand, keep);
      const limit = Math.floor(rand() * bytes.length);
      await new Promise<void>((resolve) => {
        const s = net.createConnection({ port, host: '127.0.0.1' });
        s.on('error', () => undefined);
        s.once('close', () => resolve());
        s.once('connect', () => {
          let off = 0;
          const pump = () => {
            if (s.destroyed) return;
            if (off >= limit) {
              setTimeout(() => s.destroy(), Math.floor(rand() * 200));
              return;
            }
            const n = 1 + Math.floor(rand() * 16_384);
            s.write(bytes.subarray(off, off + n));
            off += n;
            setImmediate(pump);
          };
          pump();
        });
      });
    });
    expect(cases).toBeGreaterThan(100);
    await waitFor(async () => media.ingestCounts()?.connections === 0, {
      what: 'every fuzzed connection ended',
      timeoutMs: 10_000,
    });
    await waitFor(async () => media.hub.size === 0, { what: 'no stream left in the hub' });
    expect(uncaught).toEqual([]);
    await waitFor(
      async () => {
        const now = resources();
        return (now.TCPSocketWrap ?? 0) <= (before.TCPSocketWrap ?? 0) &&
          (now.Timeout ?? 0) <= (before.Timeout ?? 0) + 2
          ? now
          : null;
      },
      { what: 'sockets and timers back to where they were', timeoutMs: 10_000 },
    );
    // A real publisher still goes live.
    const after = publishTestPattern(`rtmp://127.0.0.1:${port}/live/fuzzkey`);
    const n = publishes;
    await waitFor(async () => media.hub.has(`fuzz-${n}`), {
      what: 'a real publish after the fuzz',
    });
    await after.stop();

    console.log(`rtmp fuzz: ${cases} mutated publishes against the ingest`);
  });

  it('the push client survives mutated server answers: every run ends, nothing is left', async () => {
    // Record what nginx-rtmp answers our push client.
    const hub = media.hub;
    const source = hub.publish('fuzz-source', 'test')!;
    const frame = Buffer.alloc(2000, 1);
    frame[0] = 0x17;
    frame[1] = 1;
    let ts = 0;
    const feeding = setInterval(
      () => source.write({ type: 9, timestamp: (ts += 33), payload: frame, headroom: false }),
      33,
    );
    const proxy = await startRecordingProxy(sink.port);
    const real = startPush(
      hub,
      'fuzz-source',
      { url: `rtmp://127.0.0.1:${proxy.port}/live/rec` },
      {
        maxBufferedBytes: 1 << 24,
      },
    );
    await new Promise((r) => setTimeout(r, 1500));
    await real.stop();
    const recorded = proxy.toClient();
    await proxy.close();
    expect(recorded.length).toBeGreaterThan(1 + 2 * HANDSHAKE_SIZE);

    const rand = prng(SEED + 1);
    const open = new Set<net.Socket>();
    const server = net.createServer((s) => {
      open.add(s);
      s.on('close', () => open.delete(s));
      s.on('error', () => undefined);
      let got = 0;
      let answered = false;
      s.on('data', (d: Buffer) => {
        got += d.length;
        if (answered || got < 1 + HANDSHAKE_SIZE) return;
        answered = true;
        const bytes = mutate(recorded, rand, rand() < 0.8 ? 1 + 2 * HANDSHAKE_SIZE : 0);
        s.write(bytes);
        if (rand() < 0.3) setTimeout(() => s.destroy(), Math.floor(rand() * 300));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const fakePort = (server.address() as net.AddressInfo).port;
    const before = resources();

    const cases = await loop(async () => {
      const run = startPush(
        hub,
        'fuzz-source',
        {
          url: `rtmp://127.0.0.1:${fakePort}/live/k`,
          connectTimeoutMs: 1000,
          handshakeTimeoutMs: 1000,
          commandTimeoutMs: 1000,
        },
        { maxBufferedBytes: 1 << 20, stallMs: 1000 },
      );
      const ended = await Promise.race([
        run.exited.then(() => true),
        new Promise<boolean>((r) => setTimeout(() => r(false), 200 + Math.floor(rand() * 1500))),
      ]);
      if (!ended) await run.stop();
    });
    expect(cases).toBeGreaterThan(100);
    clearInterval(feeding);
    source.end();
    expect(uncaught).toEqual([]);
    await waitFor(async () => open.size === 0, {
      what: 'every push connection closed',
      timeoutMs: 10_000,
    });
    await waitFor(
      async () => {
        const now = resources();
        return (now.TCPSocketWrap ?? 0) <= (before.TCPSocketWrap ?? 0) &&
          (now.Timeout ?? 0) <= (before.Timeout ?? 0) + 2
          ? now
          : null;
      },
      { what: 'sockets and timers back to where they were', timeoutMs: 10_000 },
    );
    await new Promise<void>((r) => server.close(() => r()));

    console.log(`rtmp fuzz: ${cases} mutated server answers against the push client`);
  });
});
