/**
 * Shared-encoder benchmark (PRODUCT.md: "N identical transcoded destinations cost one
 * encoder"): the CPU of the service for N destinations with the same transcode profile,
 * with the encoder shared (the default) and with one encoder each
 * (RELAY_SHARED_ENCODERS=false), in the same run, against the same source and sink.
 *
 *   npm run bench:transcode -- [N]   (default: 3)
 *
 * Needs the built service (dist/), Postgres and Redis (as for the tests), ffmpeg/ffprobe
 * and nginx with libnginx-mod-rtmp. Loopback only.
 *
 * Method:
 * - Source: 60 s of testsrc2 at SOURCE_SIZE (640x360 by default; BENCH_SOURCE_SIZE=1280x720),
 *   30 fps, H.264 (GOP 60) + AAC, encoded once into a temp FLV (cached), published with
 *   `ffmpeg -re -stream_loop -1 -c copy` so that no publisher encoder runs meanwhile.
 * - Sink: one nginx-rtmp process receiving every destination as stream d<i>.
 * - The service (`node dist/src/main.js`, all roles, its own database) with N
 *   `social_platform` destinations of profile {maxHeight: 240, videoBitrateKbps: 400},
 *   a fresh process per mode: no destination (the baseline: ingest, hub, pollers), one
 *   destination (one encoder), N shared, N with one encoder each.
 * - CPU: utime+stime of the service and its children (the ffmpegs, live or reaped) over a
 *   WINDOW_S window once every relay is live and a settle; % of one core. PSS of the tree
 *   (smaps_rollup) at the end of the window. ffmpeg children counted from /proc.
 */
import { spawn } from 'node:child_process';
import { existsSync, renameSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { maxVideoGap, probe, stopAllMedia, trackMedia } from '../test/support/media';
import { startNginxRtmp, type NginxRtmp } from '../test/support/nginx';
import { newPartnerClient } from '../test/support/partner-client';
import {
  childProcesses,
  freePort,
  spawnCastbridge,
  stopChild,
  waitFor,
} from '../test/support/processes';
import { dropDatabase, flushQueuePrefix, testEnv } from '../test/support/test-env';
import { CLK_TCK, ticksBetween, treePssKb, treeTicks } from './support/proc';

const FFMPEG = process.env.FFMPEG_PATH ?? 'ffmpeg';
const N = Number(process.argv[2] ?? 3);
const SOURCE_SIZE = process.env.BENCH_SOURCE_SIZE ?? '640x360';
const WINDOW_S = Number(process.env.TRANSCODE_WINDOW_S ?? 15);
const SETTLE_MS = 4000;
const PROFILE = { maxHeight: 240, videoBitrateKbps: 400 };
const SOURCE = join(tmpdir(), `castbridge-bench-${SOURCE_SIZE}-30fps-g60-60s.flv`);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function ensureSource(): Promise<void> {
  if (existsSync(SOURCE)) return;
  process.stdout.write(`encoding the source once (${SOURCE}) … `);
  const tmp = `${SOURCE}.part.flv`;
  const child = trackMedia(
    spawn(
      FFMPEG,
      [
        ...['-hide_banner', '-loglevel', 'error', '-nostdin', '-y'],
        ...['-f', 'lavfi', '-i', `testsrc2=size=${SOURCE_SIZE}:rate=30`],
        ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100', '-t', '60'],
        ...['-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-g', '60'],
        ...['-b:v', SOURCE_SIZE === '640x360' ? '1000k' : '3000k', '-c:a', 'aac', '-b:a', '128k'],
        ...['-f', 'flv', tmp],
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    ),
  );
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  if (code !== 0) throw new Error(`source encode failed (ffmpeg exit ${code})`);
  renameSync(tmp, SOURCE);
  console.log('done');
}

interface Result {
  mode: string;
  n: number;
  cpuPct: number;
  pssMb: number;
  ffmpegs: number;
  live: number;
  sinkHeight: number | null;
  maxGap: number | null;
  load: string;
}

async function measure(mode: string, n: number, sink: NginxRtmp, shared: boolean): Promise<Result> {
  const rtmpPort = await freePort();
  const env = testEnv({
    RTMP_PORT: String(rtmpPort),
    LOG_LEVEL: 'warn',
    RELAY_SHARED_ENCODERS: String(shared),
  });
  const app = await spawnCastbridge(env);
  trackMedia(app.child);
  let publisher: ReturnType<typeof trackMedia> | null = null;
  try {
    await waitFor(async () => (await fetch(`${app.baseUrl}/health/ready`)).status === 200, {
      what: 'castbridge ready',
      timeoutMs: 60_000,
    });
    const call = (await newPartnerClient(app.baseUrl, 'Bench')).ok;
    const channel = await call('POST', '/v1/channels', { name: `Transcode ${mode}` });
    const key = (channel.ingest as { streamKey: string }).streamKey;
    for (let i = 1; i <= n; i++) {
      await call('POST', `/v1/channels/${String(channel.id)}/destinations`, {
        name: `d${i}`,
        kind: 'social_platform',
        url: sink.url,
        streamKey: `${mode.replace(/\W+/g, '-')}-d${i}`,
        profile: PROFILE,
      });
    }
    publisher = trackMedia(
      spawn(
        FFMPEG,
        [
          ...['-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-stream_loop', '-1'],
          ...['-i', SOURCE, '-c', 'copy', '-f', 'flv', `rtmp://127.0.0.1:${rtmpPort}/live/${key}`],
        ],
        { stdio: 'ignore' },
      ),
    );
    const sessionId = await waitFor(
      async () => {
        const c = await call('GET', `/v1/channels/${String(channel.id)}`);
        return c.status === 'live' ? String(c.currentSessionId) : null;
      },
      { what: 'channel live', timeoutMs: 30_000 },
    );
    const liveCount = async () =>
      (
        (await call('GET', `/v1/sessions/${sessionId}`)).destinations as Array<{ state: string }>
      ).filter((d) => d.state === 'live').length;
    if (n)
      await waitFor(async () => (await liveCount()) === n, {
        what: 'relays live',
        timeoutMs: 60_000,
      });
    await sleep(SETTLE_MS);
    const pid = app.child.pid!;
    const c0 = treeTicks(pid);
    const t0 = process.hrtime.bigint();
    await sleep(WINDOW_S * 1000);
    const c1 = treeTicks(pid);
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    const pssMb = treePssKb(pid) / 1024;
    const ffmpegs = childProcesses(pid, 'ffmpeg').length;
    const live = n ? await liveCount() : 0;
    let sinkHeight: number | null = null;
    let maxGap: number | null = null;
    if (n) {
      const url = `${sink.url}/${mode.replace(/\W+/g, '-')}-d${n}`;
      sinkHeight = (await probe(url)).find((s) => s.codec_type === 'video')?.height ?? null;
      maxGap = (await maxVideoGap(url, 5)).maxGap;
    }
    return {
      mode,
      n,
      cpuPct: (ticksBetween(c0, c1) / CLK_TCK / secs) * 100,
      pssMb,
      ffmpegs,
      live,
      sinkHeight,
      maxGap,
      load: loadavg()
        .map((l) => l.toFixed(2))
        .join(' '),
    };
  } finally {
    if (publisher) await stopChild(publisher, 'SIGKILL');
    const code = await app.stop('SIGTERM');
    if (code !== 0) console.error(`castbridge exited ${code}:\n${app.output().slice(-3000)}`);
    await dropDatabase(env.DATABASE_URL).catch((e: Error) => console.error(e.message));
    await flushQueuePrefix(env.QUEUE_PREFIX).catch(() => undefined);
  }
}

async function main(): Promise<void> {
  await ensureSource();
  const sink = await startNginxRtmp({ label: 'transcode-sink' });
  try {
    const base = await measure('baseline', 0, sink, true);
    const one = await measure('one destination', 1, sink, true);
    const shared = await measure('shared', N, sink, true);
    const separate = await measure('separate', N, sink, false);
    const f1 = (v: number) => v.toFixed(1);
    console.log('\n=== Shared-encoder benchmark ===');
    console.log(
      `source ${SOURCE_SIZE} 30 fps H.264 + AAC, looped with -c copy; ${N} destinations of profile ` +
        `${JSON.stringify(PROFILE)}; one nginx-rtmp sink; CPU of the service and its ffmpegs over ` +
        `${WINDOW_S} s, % of one core (CLK_TCK ${CLK_TCK}); ${cpus().length} CPUs`,
    );
    console.log(
      '\n| mode | destinations | ffmpeg processes | CPU % | CPU % above baseline | PSS MB | relays live | sink height | max video gap s | loadavg |',
    );
    console.log('|---|---|---|---|---|---|---|---|---|---|');
    for (const r of [base, one, shared, separate]) {
      console.log(
        `| ${r.mode} | ${r.n} | ${r.ffmpegs} | ${f1(r.cpuPct)} | ${r.n ? f1(r.cpuPct - base.cpuPct) : '—'} | ` +
          `${f1(r.pssMb)} | ${r.n ? `${r.live}/${r.n}` : '—'} | ${r.sinkHeight ?? '—'} | ` +
          `${r.maxGap === null ? '—' : r.maxGap.toFixed(3)} | ${r.load} |`,
      );
    }
    const a = shared.cpuPct - base.cpuPct;
    const b = separate.cpuPct - base.cpuPct;
    const o = one.cpuPct - base.cpuPct;
    console.log(
      `\nabove the baseline: one destination ${f1(o)} %; ${N} shared ${f1(a)} % ` +
        `(${o > 0 ? (a / o).toFixed(2) : 'n/a'}× one); ${N} with one encoder each ${f1(b)} % ` +
        `(${o > 0 ? (b / o).toFixed(2) : 'n/a'}× one, ${a > 0 ? (b / a).toFixed(2) : 'n/a'}× shared)`,
    );
  } finally {
    await sink.remove();
    await stopAllMedia();
  }
}

main().catch(async (err: Error) => {
  console.error(err.stack ?? err.message);
  await stopAllMedia();
  process.exit(1);
});
