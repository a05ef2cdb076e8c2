/**
 * Many creators at once: K live channels, each simulcast to M passthrough destinations,
 * relayed by Castbridge (all roles in one process) and by nginx-rtmp (one process, M
 * `push` lines), in the same run, on the same publishers and the same sink.
 *
 *   npm run bench:multistream -- K M        (default: 10 3)
 *
 * Needs the built service, Postgres, Redis, ffmpeg/ffprobe and nginx-rtmp. Loopback only.
 * - Publishers: K ffmpeg processes looping the same pre-encoded 720p30 3 Mbps H.264/AAC
 *   file with `-re -c copy` (bench/support/rtmp-bench.ts), started together.
 * - Sink: one nginx-rtmp process with applications m1…mM; stream `c<k>` of channel k
 *   arrives as `m<j>/c<k>` from destination j (rtmp_stat, recordings of the first frames).
 * - Measured, for each system: CPU (% of one core) and PSS of the relaying process over a
 *   15 s window once every sink stream has video; the time from the publishers' start
 *   until all K×M sink streams have video; frames and the largest gap at 3 sampled sink
 *   streams (10 s each); the whole machine's CPU during the window (saturated when the
 *   publishers, the sink and the relay together use the cores up).
 * - Castbridge's PSS is also taken with its K channels created and nothing live, so the
 *   cost of a live stream is (PSS live − PSS idle) / K.
 */
import { spawn } from 'node:child_process';
import { cpus } from 'node:os';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stopAllMedia, trackMedia } from '../test/support/media';
import { NginxRtmp, startNginxRtmp } from '../test/support/nginx';
import { newPartnerClient, waitReady } from '../test/support/partner-client';
import { freePort, ROOT, spawnCastbridge, waitFor } from '../test/support/processes';
import { dropDatabase, flushQueuePrefix, testEnv } from '../test/support/test-env';
import { CLK_TCK, ticksBetween, treePssKb, treeTicks } from './support/proc';
import {
  clearRecordings,
  ensureSource,
  FPS,
  machineTicks,
  probeSinks,
  publish,
  Publisher,
  sinkStreams,
  sleep,
  waitAllVideo,
} from './support/rtmp-bench';

const K = Number(process.argv[2] ?? 10);
const M = Number(process.argv[3] ?? 3);
const WINDOW_S = Number(process.env.MULTISTREAM_WINDOW_S ?? 15);
const IDLE_SETTLE_S = Number(process.env.MULTISTREAM_IDLE_SETTLE_S ?? 30);
const SETTLE_MS = 3000;
const PROBE_S = 10;
const LIVE_TIMEOUT_MS = 60_000;

interface Result {
  system: string;
  cpuPct: number;
  pssKb: number;
  idlePssKb?: number;
  allVideoMs: number | null;
  withVideo: number;
  machineBusyPct: number;
  syscallsPerS: number | null;
  switchesPerS: number | null;
  probes: Awaited<ReturnType<typeof probeSinks>>;
  notes: string[];
}

const sinkIds = () =>
  Array.from({ length: K }, (_, k) =>
    Array.from({ length: M }, (_, j) => `m${j + 1}/c${k + 1}`),
  ).flat();

/**
 * System calls and context switches of the process during the window, counted by
 * `perf stat` (kernel work is a large part of a relay's cost on a virtual machine, where a
 * system call is dear). Null when perf is not installed or not permitted.
 */
function countSyscalls(pid: number): () => Promise<{ syscalls: number; switches: number } | null> {
  let out = '';
  const perf = spawn(
    'perf',
    ['stat', '-x', ',', '-e', 'raw_syscalls:sys_enter,context-switches', '-p', String(pid)],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let failed = false;
  perf.on('error', () => (failed = true));
  perf.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return async () => {
    if (failed || perf.exitCode !== null) return null;
    perf.kill('SIGINT');
    await new Promise((r) => perf.once('exit', r));
    const count = (event: string): number | null => {
      const line = out.split('\n').find((l) => l.split(',')[2] === event);
      const n = line ? Number(line.split(',')[0]) : NaN;
      return Number.isFinite(n) ? n : null;
    };
    const syscalls = count('raw_syscalls:sys_enter');
    const switches = count('context-switches');
    return syscalls === null || switches === null ? null : { syscalls, switches };
  };
}

async function window(pid: number): Promise<{
  cpuPct: number;
  pssKb: number;
  machineBusyPct: number;
  syscallsPerS: number | null;
  switchesPerS: number | null;
}> {
  const stopCount = countSyscalls(pid);
  const c0 = treeTicks(pid);
  const m0 = machineTicks();
  const t0 = Date.now();
  const pss: number[] = [];
  for (let i = 0; i < WINDOW_S; i++) {
    await sleep(1000);
    pss.push(treePssKb(pid));
  }
  const c1 = treeTicks(pid);
  const m1 = machineTicks();
  const secs = (Date.now() - t0) / 1000;
  const counted = await stopCount();
  return {
    syscallsPerS: counted ? counted.syscalls / secs : null,
    switchesPerS: counted ? counted.switches / secs : null,
    cpuPct: (ticksBetween(c0, c1) / CLK_TCK / secs) * 100,
    pssKb: pss.reduce((a, b) => a + b, 0) / pss.length,
    machineBusyPct: ((m1.busy - m0.busy) / Math.max(1, m1.total - m0.total)) * 100,
  };
}

async function waitSinkEmpty(sink: NginxRtmp): Promise<void> {
  await waitFor(async () => [...(await sinkStreams(sink)).values()].every((s) => !s.publishing), {
    timeoutMs: 30_000,
    intervalMs: 250,
    what: 'sink streams to end',
  });
}

async function measureLive(
  pid: number,
  sink: NginxRtmp,
  since: number,
  notes: string[] = [],
): Promise<Omit<Result, 'system' | 'notes' | 'idlePssKb'>> {
  const ids = sinkIds();
  const video = await waitAllVideo(sink, ids, since, LIVE_TIMEOUT_MS);
  if (video.withVideo < ids.length) {
    const streams = await sinkStreams(sink);
    const missing = ids.filter((id) => !streams.get(id)?.videoCodec);
    notes.push(`no video within ${LIVE_TIMEOUT_MS / 1000} s at: ${missing.join(', ')}`);
  }
  await sleep(SETTLE_MS);
  // MULTISTREAM_PERF=<file> (with BENCH_NODE_ARGS=--perf-basic-prof): `perf record` of the
  // relaying process during the window, for `perf report -i <file>`.
  const perfOut = process.env.MULTISTREAM_PERF;
  const perf = perfOut
    ? spawn('perf', ['record', '-F', '499', '-g', '-p', String(pid), '-o', `${perfOut}.${pid}`], {
        stdio: 'ignore',
      })
    : null;
  const w = await window(pid);
  if (perf) {
    perf.kill('SIGINT');
    await new Promise((r) => perf.once('exit', r));
  }
  const samples = [...new Set([ids[0], ids[Math.floor(ids.length / 2)], ids.at(-1)])].filter(
    (x): x is string => !!x,
  );
  const probes = await probeSinks(sink, samples, PROBE_S);
  return { ...w, allVideoMs: video.allMs, withVideo: video.withVideo, probes };
}

/** The process's own view of its memory (prom-client's default metrics), in MB. */
async function heapFigures(baseUrl: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const [name, label] of [
    ['process_resident_memory_bytes', 'rss'],
    ['nodejs_heap_size_used_bytes', 'heap used'],
    ['nodejs_heap_size_total_bytes', 'heap total'],
    ['nodejs_external_memory_bytes', 'external'],
  ] as const) {
    const m = new RegExp(`^${name} (\\S+)`, 'm').exec(text);
    if (m) out[label] = Number(m[1]) / 1024 / 1024;
  }
  // Committed size of V8's spaces (new, old, code, large objects…): where the heap grows.
  for (const m of text.matchAll(/^nodejs_heap_space_size_total_bytes\{space="(\w+)"\} (\S+)/gm)) {
    const mb = Number(m[2]) / 1024 / 1024;
    if (mb >= 0.5) out[`${m[1]} space`] = mb;
  }
  return out;
}

function heapDelta(idle: Record<string, number>, live: Record<string, number>): string {
  return Object.keys(live)
    .map((k) => `${k} ${(idle[k] ?? 0).toFixed(1)} → ${live[k].toFixed(1)}`)
    .join(', ');
}

async function runCastbridge(sink: NginxRtmp): Promise<Result> {
  const rtmpPort = await freePort();
  const env = testEnv({
    RTMP_PORT: String(rtmpPort),
    LOG_LEVEL: 'warn',
    RTMP_MAX_CONNECTIONS: String(K * 2 + 100),
    // Every publisher comes from 127.0.0.1 and they all start at once: more than the
    // default 10 unauthenticated connections per address for a moment.
    RTMP_MAX_CONNECTIONS_PER_IP: String(K + 10),
  });
  const app = await spawnCastbridge(env);
  trackMedia(app.child);
  const publishers: Publisher[] = [];
  const notes: string[] = [];
  try {
    await waitReady(app.baseUrl);
    const call = (await newPartnerClient(app.baseUrl, 'Bench')).ok;
    const keys: string[] = [];
    for (let k = 1; k <= K; k++) {
      const ch = await call('POST', '/v1/channels', { name: `Creator ${k}` });
      keys.push((ch.ingest as { streamKey: string }).streamKey);
      for (let j = 1; j <= M; j++) {
        await call('POST', `/v1/channels/${String(ch.id)}/destinations`, {
          name: `d${j}`,
          kind: 'social_platform',
          url: `rtmp://127.0.0.1:${sink.port}/m${j}`,
          streamKey: `c${k}`,
        });
      }
    }
    // Idle is measured once start-up's garbage is gone: V8's memory reducer collects it
    // (and shrinks the heap) some seconds after allocation stops; before that, the same
    // idle process measures anywhere between ~115 and ~155 MB RSS.
    await sleep(IDLE_SETTLE_S * 1000);
    const idle = await window(app.child.pid!);
    notes.push(`idle (${K} channels, nothing live): CPU ${idle.cpuPct.toFixed(1)} %`);
    const idleHeap = await heapFigures(app.baseUrl);
    clearRecordings(sink);
    const since = Date.now();
    keys.forEach((key) => publishers.push(publish(`rtmp://127.0.0.1:${rtmpPort}/live/${key}`)));
    const live = await measureLive(app.child.pid!, sink, since, notes);
    notes.push(`memory MB (idle → live): ${heapDelta(idleHeap, await heapFigures(app.baseUrl))}`);
    const states = new Map<string, number>();
    let retried = 0;
    for (const ch of (await call('GET', '/v1/channels?limit=100')).data as Array<{
      currentSessionId: string | null;
    }>) {
      if (!ch.currentSessionId) {
        states.set('channel not live', (states.get('channel not live') ?? 0) + 1);
        continue;
      }
      const s = await call('GET', `/v1/sessions/${ch.currentSessionId}`);
      for (const d of s.destinations as Array<{ state: string; attempts: number }>) {
        states.set(d.state, (states.get(d.state) ?? 0) + 1);
        if (d.attempts > 0) retried += 1;
      }
    }
    notes.push(
      `relays at the end: ${[...states].map(([k, v]) => `${v} ${k}`).join(', ')}, ${retried} retried`,
    );
    return { system: 'castbridge', ...live, idlePssKb: idle.pssKb, notes };
  } finally {
    for (const p of publishers) await p.stop();
    if (process.env.MULTISTREAM_LOG) writeFileSync(process.env.MULTISTREAM_LOG, app.output());
    const code = await app.stop('SIGTERM');
    if (code !== 0) console.error(`castbridge exited ${code}:\n${app.output().slice(-3000)}`);
    await dropDatabase(env.DATABASE_URL).catch(() => undefined);
    await flushQueuePrefix(env.QUEUE_PREFIX).catch(() => undefined);
    await waitSinkEmpty(sink).catch((e: Error) => console.error(e.message));
  }
}

async function runNginx(sink: NginxRtmp): Promise<Result> {
  const push = Array.from(
    { length: M },
    (_, j) => `      push rtmp://127.0.0.1:${sink.port}/m${j + 1};`,
  ).join('\n');
  const hub = await startNginxRtmp({ label: 'hub', appConfig: push });
  const publishers: Publisher[] = [];
  try {
    clearRecordings(sink);
    const since = Date.now();
    for (let k = 1; k <= K; k++)
      publishers.push(publish(`rtmp://127.0.0.1:${hub.port}/live/c${k}`));
    const live = await measureLive(hub.pid()!, sink, since);
    return { system: 'nginx-rtmp', ...live, notes: [] };
  } finally {
    for (const p of publishers) await p.stop();
    await hub.remove();
    await waitSinkEmpty(sink).catch((e: Error) => console.error(e.message));
  }
}

function dropped(r: Result): string {
  const expected = PROBE_S * FPS;
  const ok = r.probes.every((p) => !p.error && p.frames >= expected - 3 && p.maxGap < 0.1);
  const raw = r.probes
    .map((p) =>
      p.error
        ? `${p.name}: ${p.error}`
        : `${p.name} ${p.frames}/${expected} gap ${p.maxGap.toFixed(3)} s`,
    )
    .join('; ');
  return `${ok ? 'none' : 'DROPS?'} (${raw})`;
}

async function main(): Promise<void> {
  if (!Number.isInteger(K) || K < 1 || !Number.isInteger(M) || M < 1)
    throw new Error('K and M must be positive integers');
  if (!existsSync(join(ROOT, 'dist/src/main.js'))) throw new Error('run `npm run build` first');
  await ensureSource();
  const apps = Array.from({ length: M }, (_, j) => `m${j + 1}`);
  const sink = await startNginxRtmp({ label: 'sink', stat: true, record: true, apps });
  try {
    process.stdout.write(`castbridge ${K}×${M} … `);
    const cb = await runCastbridge(sink);
    console.log(`CPU ${cb.cpuPct.toFixed(1)} %`);
    // MULTISTREAM_CASTBRIDGE_ONLY=1: skip the baseline (for quick iterations while profiling;
    // figures for the README always come from a run with both).
    if (process.env.MULTISTREAM_CASTBRIDGE_ONLY) {
      const perStream = ((cb.pssKb - (cb.idlePssKb ?? NaN)) / K / 1024).toFixed(1);
      for (const n of cb.notes) console.log(`castbridge ${n}`);
      console.log(
        `castbridge only: PSS ${(cb.pssKb / 1024).toFixed(1)} MB, ${perStream} MB per live stream, syscalls/s ${cb.syscallsPerS?.toFixed(0)}, machine busy ${cb.machineBusyPct.toFixed(0)} %`,
      );
      return;
    }
    process.stdout.write(`nginx-rtmp ${K}×${M} … `);
    const ng = await runNginx(sink);
    console.log(`CPU ${ng.cpuPct.toFixed(1)} %`);
    const mb = (kb: number) => (kb / 1024).toFixed(1);
    const secs = (ms: number | null) => (ms === null ? 'timeout' : (ms / 1000).toFixed(2));
    const perS = (n: number | null) => (n === null ? 'n/a' : Math.round(n).toLocaleString('en-US'));
    console.log(
      `\n=== ${K} creators × ${M} destinations (${cpus().length} cores, CLK_TCK ${CLK_TCK}, window ${WINDOW_S} s) ===`,
    );
    console.log(
      '| system | CPU % of a core | PSS MB | syscalls/s | switches/s | all video s | machine busy % | dropped frames |',
    );
    console.log('|---|---|---|---|---|---|---|---|');
    for (const r of [ng, cb]) {
      console.log(
        `| ${r.system} | ${r.cpuPct.toFixed(1)} | ${mb(r.pssKb)} | ${perS(r.syscallsPerS)} | ${perS(r.switchesPerS)} | ${secs(r.allVideoMs)} (${r.withVideo}/${K * M}) | ${r.machineBusyPct.toFixed(0)} | ${dropped(r)} |`,
      );
    }
    const perStream = cb.idlePssKb !== undefined ? (cb.pssKb - cb.idlePssKb) / K : NaN;
    console.log(
      `\nratio Castbridge/nginx-rtmp CPU: ${(cb.cpuPct / Math.max(0.01, ng.cpuPct)).toFixed(1)}×; ` +
        `Castbridge PSS per live stream beyond idle: ${mb(perStream)} MB (idle ${mb(cb.idlePssKb ?? NaN)} MB); ` +
        `saturated: ${Math.max(cb.machineBusyPct, ng.machineBusyPct) > 90 ? 'YES' : 'no'}`,
    );
    for (const n of cb.notes) console.log(`castbridge ${n}`);
  } finally {
    await sink.remove();
    await stopAllMedia();
  }
}

main()
  .then(() => process.exit(0))
  .catch(async (e: Error) => {
    console.error(`\nbenchmark failed: ${e.stack ?? e.message}`);
    await stopAllMedia();
    process.exit(1);
  });
