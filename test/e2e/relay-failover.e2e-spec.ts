import { Client } from 'pg';
import {
  hasVideo,
  publishTestPattern,
  Publisher,
  RtmpSink,
  startNginxSink,
  stopAllMedia,
} from '../support/media';
import { newPartnerClient, PartnerClient, waitReady } from '../support/partner-client';
import {
  CastbridgeProcess,
  childProcesses,
  freePort,
  ProcessInfo,
  spawnCastbridge,
  stillRunning,
  tcpConnectionsTo,
  waitFor,
} from '../support/processes';
import { dropDatabase, flushQueuePrefix, testEnv } from '../support/test-env';

jest.setTimeout(180_000);

/**
 * Roles across processes: one api+ingest process, relay workers in other processes that
 * pull the stream from the ingest node. A worker killed with SIGKILL: its relays are
 * taken over by the other worker and live again within 10 s, never two at once; a worker
 * stopped with SIGTERM hands its relays over and exits cleanly, leaving no ffmpeg.
 */
describe('relay failover across worker processes', () => {
  let env: Record<string, string>;
  let api: CastbridgeProcess;
  const workers: CastbridgeProcess[] = [];
  let db: Client;
  let rtmpPort = 0;
  let sink: RtmpSink;
  let publisher: Publisher | null = null;

  let call: PartnerClient['json'];

  /** relay rows of the session: state and the worker process (pid) holding it. */
  async function relays(sessionId: string) {
    const { rows } = await db.query<{
      destination_id: string;
      state: string;
      worker_id: string | null;
    }>(`SELECT destination_id, state, worker_id FROM relays WHERE session_id = $1`, [sessionId]);
    return rows.map((r) => ({ ...r, pid: Number((r.worker_id ?? '').split(':')[1] ?? 0) }));
  }

  function worker(extra: Record<string, string> = {}) {
    return spawnCastbridge({ ...env, ROLES: 'worker', LOG_LEVEL: 'debug', ...extra }).then((w) => {
      workers.push(w);
      return w;
    });
  }

  /**
   * The worker's relay ffmpegs (reading the stream on stdin), from /proc: an error is an
   * error, not "none"; the readiness check's `ffmpeg -version` is not one of them.
   */
  function childFfmpegs(w: CastbridgeProcess): ProcessInfo[] {
    return childProcesses(w.child.pid as number, 'ffmpeg').filter((f) =>
      f.cmdline.includes('pipe:0'),
    );
  }
  const hlsFfmpegs = (w: CastbridgeProcess) =>
    childFfmpegs(w).filter((f) => f.cmdline.includes('hls')).length;

  /**
   * "Never two at once", sampled every 50 ms while relays move: per running worker, its
   * pushes (established TCP connections to the sink) and its ffmpegs (the HLS rendition).
   * Three social destinations and one brand site: more than 3 pushes or 1 HLS ffmpeg at
   * any moment is a destination fed twice.
   */
  interface Sample {
    phase: string;
    pushes: Record<number, number>;
    hls: Record<number, number>;
  }
  const samples: Sample[] = [];
  let phase = 'before';
  let sampler: NodeJS.Timeout | null = null;
  const samplingErrors: string[] = [];
  function sample(): void {
    const s: Sample = { phase, pushes: {}, hls: {} };
    try {
      for (const w of workers) {
        const pid = w.child.pid as number;
        if (w.child.exitCode !== null || w.child.signalCode !== null) continue;
        s.pushes[pid] = tcpConnectionsTo(pid, sink.port);
        s.hls[pid] = hlsFfmpegs(w);
      }
    } catch (err) {
      samplingErrors.push((err as Error).message);
    }
    samples.push(s);
  }
  const sum = (r: Record<number, number>) => Object.values(r).reduce((a, b) => a + b, 0);

  beforeAll(async () => {
    rtmpPort = await freePort();
    env = testEnv({ RTMP_PORT: String(rtmpPort), INGEST_INTERNAL_HOST: '127.0.0.1' });
    api = await spawnCastbridge({ ...env, ROLES: 'api,ingest' });
    await waitReady(api.baseUrl, 'api ready');
    db = new Client({ connectionString: env.DATABASE_URL });
    await db.connect();
    call = (await newPartnerClient(api.baseUrl, 'Failover')).json;
    sink = await startNginxSink();
  });

  afterAll(async () => {
    if (sampler) clearInterval(sampler);
    await publisher?.stop();
    for (const w of workers) await w.stop('SIGKILL');
    await api.stop();
    await db.end();
    await sink.stop();
    await stopAllMedia();
    await dropDatabase(env.DATABASE_URL);
    await flushQueuePrefix(env.QUEUE_PREFIX);
  });

  it('moves relays to another worker after SIGKILL, and on SIGTERM', async () => {
    const w1 = await worker();
    await waitReady(w1.baseUrl, 'worker 1 ready');
    const channel = await call('POST', '/v1/channels', { name: 'Failover' });
    const channelId = String(channel.id);
    const keys = ['fo_one', 'fo_two', 'fo_three'];
    for (const k of keys) {
      await call('POST', `/v1/channels/${channelId}/destinations`, {
        name: k,
        kind: 'social_platform',
        url: sink.url,
        streamKey: k,
      });
    }
    await call('POST', `/v1/channels/${channelId}/destinations`, {
      name: 'site',
      kind: 'brand_site',
    });
    const streamKey = (channel.ingest as { streamKey: string }).streamKey;
    publisher = publishTestPattern(`rtmp://127.0.0.1:${rtmpPort}/live/${streamKey}`);
    const sessionId = await waitFor(
      async () => {
        const c = await call('GET', `/v1/channels/${channelId}`);
        return c.currentSessionId ? String(c.currentSessionId) : null;
      },
      { what: 'session' },
    );

    // Worker 1 (another process than the ingest) pulls the stream and feeds every destination.
    await waitFor(
      async () => {
        const r = await relays(sessionId);
        return r.length === 4 && r.every((x) => x.state === 'live' && x.pid === w1.child.pid);
      },
      { what: 'all live on worker 1', timeoutMs: 30_000 },
    );
    for (const k of keys) expect(await hasVideo(`${sink.url}/${k}`)).toBe(true);
    // Worker 1 runs one ffmpeg (the HLS rendition; passthrough needs none) and 3 pushes.
    const w1Ffmpegs = childFfmpegs(w1);
    expect(w1Ffmpegs.map((f) => f.cmdline.includes('hls'))).toEqual([true]);
    expect(tcpConnectionsTo(w1.child.pid as number, sink.port)).toBe(3);

    const w2 = await worker();
    await waitReady(w2.baseUrl, 'worker 2 ready');
    sampler = setInterval(sample, 50);

    // SIGKILL worker 1: worker 2 takes every relay over within 10 s.
    phase = 'after SIGKILL';
    sample();
    w1.child.kill('SIGKILL');
    const killedAt = Date.now();
    await waitFor(
      async () => {
        const r = await relays(sessionId);
        return r.every((x) => x.state === 'live' && x.pid === w2.child.pid);
      },
      { what: 'all live on worker 2', timeoutMs: 10_000, intervalMs: 200 },
    );
    const tookOverMs = Date.now() - killedAt;
    expect(tookOverMs).toBeLessThan(10_000);
    for (const k of keys) {
      await waitFor(() => hasVideo(`${sink.url}/${k}`), {
        what: `${k} fed again`,
        timeoutMs: 10_000,
      });
    }
    // worker 1's ffmpeg ended with it (its input pipe closed).
    await waitFor(async () => !w1Ffmpegs.some(stillRunning), { what: 'orphan ffmpeg gone' });

    // SIGTERM worker 2 with worker 3 up: clean exit, relays handed over, no ffmpeg left behind.
    phase = 'worker 3 up';
    const w3 = await worker();
    await waitReady(w3.baseUrl, 'worker 3 ready');
    // The survivor's own processes, known before it stops: one HLS ffmpeg, 3 pushes.
    const w2Ffmpegs = childFfmpegs(w2);
    expect(w2Ffmpegs.map((f) => f.cmdline.includes('hls'))).toEqual([true]);
    expect(tcpConnectionsTo(w2.child.pid as number, sink.port)).toBe(3);
    phase = 'after SIGTERM';
    sample();
    const stoppedAt = Date.now();
    const code = await w2.stop('SIGTERM');
    const tail = w2
      .output()
      .split('\n')
      .filter((l) => !l.includes('InstanceLoader') && !l.includes('node-media-server'))
      .join('\n')
      .slice(-6000);
    expect({ code, output: code === 0 ? '' : tail }).toEqual({ code: 0, output: '' });
    expect(Date.now() - stoppedAt).toBeLessThan(30_000);
    expect(w2Ffmpegs.filter(stillRunning)).toEqual([]);
    await waitFor(
      async () => {
        const r = await relays(sessionId);
        return r.every((x) => x.state === 'live' && x.pid === w3.child.pid);
      },
      { what: 'all live on worker 3', timeoutMs: 15_000, intervalMs: 200 },
    );
    for (const k of keys) {
      await waitFor(() => hasVideo(`${sink.url}/${k}`), { what: `${k} fed by worker 3` });
    }
    await waitFor(
      async () => hlsFfmpegs(w3) === 1 && tcpConnectionsTo(w3.child.pid as number, sink.port) === 3,
      { what: 'worker 3 runs the HLS ffmpeg and the 3 pushes' },
    );
    clearInterval(sampler);
    sampler = null;
    sample();

    // Never two at once: no sample saw a destination fed by two workers (or twice by one)…
    const doubled = samples.filter((x) => sum(x.pushes) > 3 || sum(x.hls) > 1);
    expect(doubled).toEqual([]);
    // …and the samples did watch the moves: worker 2, then worker 3, feeding everything.
    const w2pid = w2.child.pid as number;
    const w3pid = w3.child.pid as number;
    const full = (x: Sample, pid: number) => x.pushes[pid] === 3 && x.hls[pid] === 1;
    const firstW2 = samples.findIndex((x) => x.phase === 'after SIGKILL' && full(x, w2pid));
    const firstW3 = samples.findIndex((x) => x.phase === 'after SIGTERM' && full(x, w3pid));
    expect({ firstW2: firstW2 >= 0, firstW3: firstW3 > firstW2 }).toEqual({
      firstW2: true,
      firstW3: true,
    });
    expect(samplingErrors).toEqual([]);
  });
});
