/**
 * Fan-out benchmark: Castbridge's in-process RTMP passthrough relays against nginx-rtmp's
 * `push`, in the same run, with the same source and the same sink.
 *
 *   npm run bench:fanout -- [N...]   (default: 1 10 50)
 *
 * Needs the built service (`npm run build` → dist/), Postgres and Redis (as for the tests),
 * ffmpeg/ffprobe and nginx with libnginx-mod-rtmp. Loopback only.
 *
 * Method (identical for both systems):
 * - Source: 60 s of testsrc2 1280x720 30 fps, H.264 3 Mbps CBR-ish, GOP 60, AAC 128k,
 *   encoded once into a temp FLV (cached), then published with
 *   `ffmpeg -re -stream_loop -1 -i file.flv -c copy -f flv …` so no encoder runs meanwhile.
 * - Sink: one nginx-rtmp process (`application live { live on; }`) receiving every
 *   destination as stream `d<i>`, with `rtmp_stat all` on a loopback HTTP port (bytes per
 *   stream) and `record video` of each stream's first 2 video frames (the recording starts
 *   at a key frame: when it holds a frame, that destination receives decodable video).
 * - Relay under test: Castbridge (`node dist/src/main.js`, all roles, its own database;
 *   N `social_platform` destinations created before publishing), or an nginx-rtmp hub
 *   (`master_process off`: one process) with N `push rtmp://…/live/d<i>` lines. A fresh
 *   process for every N.
 * - CPU: utime+stime of the relay process (and any children, live or reaped) over a 15 s
 *   window once every destination has video; % of one core. PSS: /proc/<pid>/smaps_rollup
 *   at the end of that window. Per destination = (value at N − value at N=0 with the same
 *   publish running) / N.
 * - Time to all video: from the publisher's start until every sink stream's recording holds
 *   a video frame (polled every 20 ms). Castbridge's own view (every relay 'live' in
 *   GET /v1/sessions/:id, polled every 200 ms) is printed too.
 * - Dropped frames: ffprobe reads 10 s of up to 3 sink streams (packet timestamps).
 */
import { existsSync, rmSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { stopAllMedia, trackMedia } from '../test/support/media';
import { NginxRtmp, startNginxRtmp } from '../test/support/nginx';
import { CLK_TCK, ticksBetween, ticksOf, treePssKb, treeTicks } from './support/proc';
import {
  clearRecordings,
  ensureSource,
  FPS,
  probeSinks,
  publish,
  Publisher,
  sinkStreams,
  waitAllVideo,
} from './support/rtmp-bench';
import { newPartnerClient } from '../test/support/partner-client';
import {
  CastbridgeProcess,
  freePort,
  ROOT,
  spawnCastbridge,
  waitFor,
} from '../test/support/processes';
import { dropDatabase, flushQueuePrefix, PG_BASE, testEnv } from '../test/support/test-env';

const WINDOW_S = Number(process.env.FANOUT_WINDOW_S ?? 15);
/** After every destination has video, before the CPU window starts. */
const SETTLE_MS = 3000;
const PROBE_S = 10;
const LIVE_TIMEOUT_MS = 30_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- cleanup

const cleanups: Array<() => Promise<unknown>> = [];

async function cleanupAll(): Promise<void> {
  while (cleanups.length) {
    const fn = cleanups.pop()!;
    await fn().catch((e: Error) => console.error(`cleanup: ${e.message}`));
  }
  await stopAllMedia();
}

// ---------------------------------------------------------------- media

const names = (n: number) => Array.from({ length: n }, (_, i) => `d${i + 1}`);

async function waitSinkEmpty(sink: NginxRtmp): Promise<void> {
  await waitFor(
    async () => {
      const s = await sinkStreams(sink);
      return [...s.keys()].every((n) => !/^d\d+$/.test(n));
    },
    { timeoutMs: 20_000, intervalMs: 200, what: 'sink streams to end' },
  );
}

// ---------------------------------------------------------------- measurement

interface Measurement {
  system: 'castbridge' | 'nginx-rtmp';
  n: number;
  cpuPct: number;
  /** Mean of 1 s samples over the window; and their min, max. */
  pssKb: number;
  pssRangeKb: [number, number];
  allVideoMs: number | null;
  firstVideoMs: number | null;
  withVideo: number;
  relaysLiveMs?: number | null;
  relaysLiveCount?: number;
  relaysEnd?: string;
  dbCpuPct?: number;
  sinkKbps: number[];
  probes: Array<{ name: string; frames: number; maxGap: number; error?: string }>;
  load: string;
}

/** CPU and PSS of the relay process over the window; sink bytes per stream; frame checks. */
async function measure(
  rootPid: number,
  sink: NginxRtmp,
  streams: string[],
  dbPids: () => Promise<number[]>,
): Promise<
  Pick<Measurement, 'cpuPct' | 'pssKb' | 'pssRangeKb' | 'dbCpuPct' | 'sinkKbps' | 'probes' | 'load'>
> {
  await sleep(SETTLE_MS);
  const db = await dbPids();
  const s0 = await sinkStreams(sink);
  const c0 = treeTicks(rootPid);
  const d0 = ticksOf(db);
  const t0 = process.hrtime.bigint();
  // PSS sampled every second over the window (Node's heap moves with GC): mean, min, max.
  const pss: number[] = [];
  for (let i = 0; i < WINDOW_S; i++) {
    await sleep(1000);
    pss.push(treePssKb(rootPid));
  }
  const c1 = treeTicks(rootPid);
  const d1 = ticksOf(db);
  const t1 = process.hrtime.bigint();
  const s1 = await sinkStreams(sink);
  const pssKb = pss.reduce((a, b) => a + b, 0) / pss.length;
  const pssRangeKb: [number, number] = [Math.min(...pss), Math.max(...pss)];
  const load = loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  const secs = Number(t1 - t0) / 1e9;
  const cpuPct = (ticksBetween(c0, c1) / CLK_TCK / secs) * 100;
  let dbTicks = 0;
  for (const [pid, t] of d1) dbTicks += t - (d0.get(pid) ?? t);
  const dbCpuPct = (dbTicks / CLK_TCK / secs) * 100;
  const sinkKbps = streams.map((n) => {
    const a = s0.get(n)?.bytesIn ?? 0;
    const b = s1.get(n)?.bytesIn ?? 0;
    return ((b - a) * 8) / secs / 1000;
  });
  const samples = [
    ...new Set([streams[0], streams[Math.floor((streams.length - 1) / 2)], streams.at(-1)]),
  ].filter((n): n is string => !!n);
  const probes = await probeSinks(sink, samples, PROBE_S);
  return { cpuPct, pssKb, pssRangeKb, dbCpuPct, sinkKbps, probes, load };
}

// ---------------------------------------------------------------- systems

async function runCastbridge(n: number, sink: NginxRtmp): Promise<Measurement> {
  const rtmpPort = await freePort();
  const env = testEnv({ RTMP_PORT: String(rtmpPort), LOG_LEVEL: 'warn' });
  let app: CastbridgeProcess | null = null;
  let pub: Publisher | null = null;
  const pg = new Client({ connectionString: `${PG_BASE}/postgres` });
  const dropAll = async () => {
    await dropDatabase(env.DATABASE_URL).catch((e: Error) =>
      console.error(`drop db: ${e.message}`),
    );
    await flushQueuePrefix(env.QUEUE_PREFIX).catch(() => undefined);
    rmSync(join('/tmp', env.QUEUE_PREFIX), { recursive: true, force: true });
  };
  cleanups.push(dropAll);
  try {
    app = await spawnCastbridge(env);
    trackMedia(app.child);
    const a = app;
    // Fails at once when the process dies (e.g. dist/ missing while being rebuilt).
    const died = a.exited.then((code) => {
      throw new Error(`castbridge exited (${code}) before ready:\n${a.output().slice(-2000)}`);
    });
    died.catch(() => undefined);
    await Promise.race([
      died,
      waitFor(async () => (await fetch(`${a.baseUrl}/health/ready`)).status === 200, {
        what: 'castbridge ready',
        timeoutMs: 60_000,
      }),
    ]);
    const call = (await newPartnerClient(a.baseUrl, 'Bench')).ok;
    const channel = await call('POST', '/v1/channels', { name: `Fan-out ${n}` });
    const channelId = String(channel.id);
    const streamKey = (channel.ingest as { streamKey: string }).streamKey;
    const streams = names(n);
    for (const name of streams) {
      await call('POST', `/v1/channels/${channelId}/destinations`, {
        name,
        kind: 'social_platform',
        url: `rtmp://127.0.0.1:${sink.port}/live`,
        streamKey: name,
      });
    }

    clearRecordings(sink);
    pub = publish(`rtmp://127.0.0.1:${rtmpPort}/live/${streamKey}`);
    const since = pub.startedAt;
    let sessionId = '';
    // Castbridge's own view: every relay 'live' (API polled every 200 ms).
    const relaysLive = (async () => {
      sessionId = await waitFor(
        async () => {
          const c = await call('GET', `/v1/channels/${channelId}`);
          return c.status === 'live' && c.currentSessionId ? String(c.currentSessionId) : null;
        },
        { timeoutMs: LIVE_TIMEOUT_MS, intervalMs: 100, what: 'channel live' },
      );
      if (n === 0) return { ms: Date.now() - since, count: 0 };
      let count = 0;
      try {
        await waitFor(
          async () => {
            const s = await call('GET', `/v1/sessions/${sessionId}`);
            const ds = (s.destinations as Array<{ state: string }>) ?? [];
            count = ds.filter((d) => d.state === 'live').length;
            return count === n;
          },
          { timeoutMs: LIVE_TIMEOUT_MS, intervalMs: 200, what: 'relays live' },
        );
        return { ms: Date.now() - since, count };
      } catch {
        return { ms: null, count };
      }
    })();
    const video = n ? await waitAllVideo(sink, streams, since, LIVE_TIMEOUT_MS) : null;
    const own = await relaysLive;

    const dbName = new URL(env.DATABASE_URL).pathname.slice(1);
    await pg.connect();
    const dbPids = async () =>
      (
        await pg.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1', [
          dbName,
        ])
      ).rows.map((r) => r.pid);
    const m = await measure(a.child.pid!, sink, streams, dbPids);

    let relaysEnd = '';
    if (n) {
      const s = await call('GET', `/v1/sessions/${sessionId}`);
      const ds = (s.destinations as Array<{ state: string; attempts: number }>) ?? [];
      const byState = new Map<string, number>();
      for (const d of ds) byState.set(d.state, (byState.get(d.state) ?? 0) + 1);
      const retried = ds.filter((d) => d.attempts > 0).length;
      relaysEnd =
        [...byState].map(([k, v]) => `${v} ${k}`).join(', ') +
        (retried ? `, ${retried} retried` : '');
    }
    return {
      system: 'castbridge',
      n,
      ...m,
      allVideoMs: video?.allMs ?? null,
      firstVideoMs: video?.firstMs ?? null,
      withVideo: video?.withVideo ?? 0,
      relaysLiveMs: own.ms,
      relaysLiveCount: own.count,
      relaysEnd,
    };
  } finally {
    await pg.end().catch(() => undefined);
    if (pub) await pub.stop();
    if (app) {
      const code = await app.stop('SIGTERM');
      if (code !== 0) console.error(`castbridge exited ${code}:\n${app.output().slice(-3000)}`);
    }
    cleanups.splice(cleanups.indexOf(dropAll), 1);
    await dropAll();
    await waitSinkEmpty(sink).catch((e: Error) => console.error(e.message));
  }
}

async function runNginx(n: number, sink: NginxRtmp): Promise<Measurement> {
  const streams = names(n);
  const push = streams
    .map((name) => `      push rtmp://127.0.0.1:${sink.port}/live/${name};`)
    .join('\n');
  const hub = await startNginxRtmp({ label: `hub${n}`, appConfig: push });
  let pub: Publisher | null = null;
  try {
    clearRecordings(sink);
    pub = publish(`rtmp://127.0.0.1:${hub.port}/live/source`);
    const video = n ? await waitAllVideo(sink, streams, pub.startedAt, LIVE_TIMEOUT_MS) : null;
    if (!n) await sleep(2000); // publish established
    const m = await measure(hub.pid()!, sink, streams, async () => []);
    return {
      system: 'nginx-rtmp',
      n,
      ...m,
      dbCpuPct: undefined,
      allVideoMs: video?.allMs ?? null,
      firstVideoMs: video?.firstMs ?? null,
      withVideo: video?.withVideo ?? 0,
    };
  } finally {
    if (pub) await pub.stop();
    await hub.remove();
    await waitSinkEmpty(sink).catch((e: Error) => console.error(e.message));
  }
}

// ---------------------------------------------------------------- report

const f1 = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : '—');
const f2 = (v: number) => (Number.isFinite(v) ? (Math.abs(v) < 0.005 ? 0 : v).toFixed(2) : '—');
const secs = (ms: number | null | undefined) => (ms == null ? 'timeout' : (ms / 1000).toFixed(2));

function dropped(m: Measurement): { verdict: string; raw: string } {
  if (!m.n) return { verdict: '', raw: '' };
  const expected = PROBE_S * FPS;
  const raw = m.probes
    .map((p) =>
      p.error
        ? `${p.name}: ${p.error}`
        : `${p.name} ${p.frames}/${expected} gap ${p.maxGap.toFixed(3)}s`,
    )
    .join('; ');
  const ok = m.probes.every((p) => !p.error && p.frames >= expected - 3 && p.maxGap < 0.1);
  return { verdict: ok ? 'none' : 'DROPS?', raw };
}

function pad(s: string, w: number, right = false): string {
  return right ? s.padEnd(w) : s.padStart(w);
}

function printReport(base: Record<string, Measurement>, rows: Measurement[]): void {
  const cb0 = base.castbridge!;
  const ng0 = base['nginx-rtmp']!;
  console.log('\n=== Fan-out benchmark ===');
  console.log(
    `source: 1280x720 ${FPS} fps H.264 3 Mbps (GOP 60) + AAC 128k, pre-encoded, looped with -c copy; ` +
      `one nginx-rtmp sink; "all video" = a key frame recorded at every sink stream; CPU window ${WINDOW_S} s (% of one core, CLK_TCK ${CLK_TCK}); ` +
      `PSS from smaps_rollup; ${cpus().length} CPUs`,
  );
  console.log(
    `N=0 baselines (publisher running, no destinations): castbridge CPU ${f1(cb0.cpuPct)} %, ` +
      `PSS ${f1(cb0.pssKb / 1024)} MB (its Postgres backends ${f1(cb0.dbCpuPct ?? NaN)} %); ` +
      `nginx hub CPU ${f1(ng0.cpuPct)} %, PSS ${f1(ng0.pssKb / 1024)} MB ` +
      `(PSS samples: castbridge ${f1(cb0.pssRangeKb[0] / 1024)}–${f1(cb0.pssRangeKb[1] / 1024)} MB, ` +
      `nginx ${f1(ng0.pssRangeKb[0] / 1024)}–${f1(ng0.pssRangeKb[1] / 1024)} MB)`,
  );
  const cols = [
    ['N', 4],
    ['system', 11],
    ['CPU %', 7],
    ['CPU %/dest', 10],
    ['PSS MB', 7],
    ['PSS MB/dest', 11],
    ['all video s', 11],
    ['CB relays live s', 16],
    ['sink kbps/stream min/avg/max', 28],
    ['dropped', 7],
  ] as const;
  const header = cols.map(([h, w]) => pad(h, w)).join(' | ');
  console.log(`\n${header}\n${'-'.repeat(header.length)}`);
  const perDest = (m: Measurement) => {
    const b = m.system === 'castbridge' ? cb0 : ng0;
    return {
      cpu: (m.cpuPct - b.cpuPct) / m.n,
      pss: (m.pssKb - b.pssKb) / 1024 / m.n,
    };
  };
  const details: string[] = [];
  for (const n of [...new Set(rows.map((r) => r.n))]) {
    const cb = rows.find((r) => r.n === n && r.system === 'castbridge');
    const ng = rows.find((r) => r.n === n && r.system === 'nginx-rtmp');
    for (const m of [cb, ng]) {
      if (!m) continue;
      const pd = perDest(m);
      const k = m.sinkKbps;
      const avg = k.reduce((s, v) => s + v, 0) / Math.max(1, k.length);
      const d = dropped(m);
      const cells = [
        String(n),
        m.system,
        f1(m.cpuPct),
        f2(pd.cpu),
        f1(m.pssKb / 1024),
        f2(pd.pss),
        m.allVideoMs == null ? `timeout (${m.withVideo}/${n})` : secs(m.allVideoMs),
        m.system === 'castbridge'
          ? m.relaysLiveMs == null
            ? `timeout (${m.relaysLiveCount}/${n})`
            : secs(m.relaysLiveMs)
          : '',
        `${Math.min(...k).toFixed(0)}/${avg.toFixed(0)}/${Math.max(...k).toFixed(0)}`,
        d.verdict,
      ];
      console.log(cells.map((c, i) => pad(c, cols[i]![1])).join(' | '));
      details.push(
        `N=${n} ${m.system}: frames ${d.raw}; first video ${secs(m.firstVideoMs)} s; ` +
          `PSS samples ${f1(m.pssRangeKb[0] / 1024)}–${f1(m.pssRangeKb[1] / 1024)} MB; loadavg ${m.load}` +
          (m.system === 'castbridge'
            ? `; relays at end: ${m.relaysEnd}; its Postgres backends ${f1(m.dbCpuPct ?? NaN)} % CPU (not included above)`
            : ''),
      );
    }
    if (cb && ng) {
      const a = perDest(cb);
      const b = perDest(ng);
      const ratio = (x: number, y: number) =>
        x > 0 && y > 0 ? `${(x / y).toFixed(1)}x` : 'n/a (≤ 0)';
      console.log(
        [
          String(n),
          'ratio CB/ng',
          ratio(cb.cpuPct, ng.cpuPct),
          ratio(a.cpu, b.cpu),
          ratio(cb.pssKb, ng.pssKb),
          ratio(a.pss, b.pss),
          cb.allVideoMs != null && ng.allVideoMs ? ratio(cb.allVideoMs, ng.allVideoMs) : 'n/a',
          '',
          '',
          '',
        ]
          .map((c, i) => pad(c, cols[i]![1]))
          .join(' | '),
      );
    }
  }
  console.log(
    '\nDetails (ffprobe: 10 s of sample sink streams, frames received / expected, max gap between video timestamps):',
  );
  for (const d of details) console.log(`  ${d}`);
  console.log(
    '\nTargets (PRODUCT.md): CPU/dest ≤ 3x nginx-rtmp; PSS ≤ 5 MB/dest; 50 destinations without dropped frames; all live ≤ 1.5 s.',
  );
  for (const cb of rows.filter((r) => r.system === 'castbridge')) {
    const ng = rows.find((r) => r.n === cb.n && r.system === 'nginx-rtmp');
    const a = perDest(cb);
    const b = ng ? perDest(ng) : null;
    console.log(
      `  N=${cb.n}: CPU/dest ${f2(a.cpu)} vs nginx ${b ? f2(b.cpu) : '—'} → ` +
        `${b && b.cpu > 0 ? (a.cpu <= 3 * b.cpu ? 'within 3x' : 'NOT within 3x') : 'n/a (nginx per-dest ≤ 0)'}; ` +
        `PSS/dest ${f2(a.pss)} MB → ${a.pss <= 5 ? 'ok' : 'over 5 MB'}; ` +
        `all video ${secs(cb.allVideoMs)} s → ${cb.allVideoMs != null && cb.allVideoMs <= 1500 ? 'ok' : 'over 1.5 s'}; ` +
        `dropped frames: ${dropped(cb).verdict}`,
    );
  }
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const args = process.argv.slice(2).map(Number);
  const ns = args.length ? args : [1, 10, 50];
  if (ns.some((n) => !Number.isInteger(n) || n < 1)) throw new Error('N must be positive integers');
  if (!existsSync(join(ROOT, 'dist/src/main.js'))) throw new Error('run `npm run build` first');
  const started = Date.now();
  await ensureSource();
  const sink = await startNginxRtmp({ label: 'sink', stat: true, record: true });
  cleanups.push(() => sink.remove());
  const base: Record<string, Measurement> = {};
  const rows: Measurement[] = [];
  const step = async (what: string, fn: () => Promise<Measurement>) => {
    const t = Date.now();
    process.stdout.write(`${what} … `);
    const m = await fn();
    console.log(
      `CPU ${f1(m.cpuPct)} %, PSS ${f1(m.pssKb / 1024)} MB` +
        (m.n ? `, all video ${secs(m.allVideoMs)} s (${m.withVideo}/${m.n})` : '') +
        ` [${((Date.now() - t) / 1000).toFixed(0)} s]`,
    );
    return m;
  };
  base.castbridge = await step('castbridge N=0', () => runCastbridge(0, sink));
  base['nginx-rtmp'] = await step('nginx-rtmp N=0', () => runNginx(0, sink));
  for (const n of ns) {
    rows.push(await step(`castbridge N=${n}`, () => runCastbridge(n, sink)));
    rows.push(await step(`nginx-rtmp N=${n}`, () => runNginx(n, sink)));
  }
  printReport(base, rows);
  console.log(`\ntotal run time ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

let exiting = false;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (exiting) return;
    exiting = true;
    console.error(`\n${sig}: cleaning up`);
    void cleanupAll().finally(() => process.exit(130));
  });
}

main()
  .then(() => cleanupAll())
  .then(() => process.exit(0))
  .catch(async (e: Error) => {
    console.error(`\nbenchmark failed: ${e.stack ?? e.message}`);
    await cleanupAll();
    process.exit(1);
  });
