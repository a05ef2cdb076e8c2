/**
 * Soak: K creators × M passthrough destinations for a long time, with faults, watching
 * for what grows without bound and for relays that do not come back.
 *
 *   npm run bench:soak -- K M          (default: 20 3; SOAK_MINUTES=30, SOAK_FAULT_S=180)
 *
 * Needs the built service, Postgres, Redis, ffmpeg and nginx-rtmp. Loopback only.
 * - M sinks, one nginx-rtmp process per destination index, so a destination can be
 *   killed and restored (every relay to it fails, retries with backoff, and must be live
 *   again once it is back).
 * - Every SOAK_FAULT_S seconds one fault, in turn: a sink is stopped for 20 s and started
 *   again; or a quarter of the publishers disconnect and reconnect 5 s later.
 * - Every minute: the service's RSS, heap used, external memory, active handles and
 *   CPU (% of one core over the minute), and how many relays are live.
 * - Fails (exit 1) when, 90 s after a fault, not every K×M relay is live again, or when
 *   after warm-up RSS, heap or handles keep growing: the last third of the samples is
 *   compared with the first third (after the first 3 minutes) and any growth beyond a
 *   margin (RSS 25 %, heap 25 %, handles 10 %) with every step up counts as unbounded.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { stopAllMedia, trackMedia } from '../test/support/media';
import { NginxRtmp, startNginxRtmp } from '../test/support/nginx';
import { newPartnerClient, waitReady } from '../test/support/partner-client';
import { freePort, ROOT, spawnCastbridge } from '../test/support/processes';
import { dropDatabase, flushQueuePrefix, testEnv } from '../test/support/test-env';
import { CLK_TCK, ticksBetween, treeTicks } from './support/proc';
import { ensureSource, publish, Publisher, sleep } from './support/rtmp-bench';

const K = Number(process.argv[2] ?? 20);
const M = Number(process.argv[3] ?? 3);
const MINUTES = Number(process.env.SOAK_MINUTES ?? 30);
const FAULT_S = Number(process.env.SOAK_FAULT_S ?? 180);
const SAMPLE_S = Number(process.env.SOAK_SAMPLE_S ?? 60);
const RECOVER_MS = 90_000;
const WARMUP_MIN = 3;

interface Sample {
  minute: number;
  rssMb: number;
  heapMb: number;
  externalMb: number;
  handles: number;
  cpuPct: number;
  live: number;
}

async function metrics(baseUrl: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const get = (name: string) => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? NaN);
  return {
    rss: get('process_resident_memory_bytes') / 1048576,
    heap: get('nodejs_heap_size_used_bytes') / 1048576,
    external: get('nodejs_external_memory_bytes') / 1048576,
    handles: get('nodejs_active_handles_total'),
  };
}

/** Grows without bound: the last third is above the first by more than `margin`, rising. */
export function unbounded(values: number[], margin: number): boolean {
  if (values.length < 6) return false;
  const third = Math.floor(values.length / 3);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const first = mean(values.slice(0, third));
  const last = values.slice(-third);
  const rising = last.every((v, i) => i === 0 || v >= last[i - 1]);
  return mean(last) > first * (1 + margin) && rising;
}

async function main(): Promise<void> {
  if (!existsSync(join(ROOT, 'dist/src/main.js'))) throw new Error('run `npm run build` first');
  await ensureSource();
  const sinks: NginxRtmp[] = [];
  for (let j = 1; j <= M; j++) sinks.push(await startNginxRtmp({ label: `soak${j}` }));
  const rtmpPort = await freePort();
  const env = testEnv({
    RTMP_PORT: String(rtmpPort),
    LOG_LEVEL: 'warn',
    RTMP_MAX_CONNECTIONS: String(K * 2 + 100),
    RTMP_MAX_CONNECTIONS_PER_IP: String(K + 10),
  });
  const app = await spawnCastbridge(env);
  trackMedia(app.child);
  const publishers = new Map<number, Publisher>();
  const failures: string[] = [];
  try {
    await waitReady(app.baseUrl);
    const call = (await newPartnerClient(app.baseUrl, 'Soak')).ok;
    const keys: string[] = [];
    const channels: string[] = [];
    for (let k = 1; k <= K; k++) {
      const ch = await call('POST', '/v1/channels', { name: `Creator ${k}` });
      keys.push((ch.ingest as { streamKey: string }).streamKey);
      channels.push(String(ch.id));
      for (let j = 1; j <= M; j++) {
        await call('POST', `/v1/channels/${String(ch.id)}/destinations`, {
          name: `d${j}`,
          kind: 'social_platform',
          url: sinks[j - 1].url,
          streamKey: `c${k}`,
        });
      }
    }
    const url = (k: number) => `rtmp://127.0.0.1:${rtmpPort}/live/${keys[k]}`;
    for (let k = 0; k < K; k++) publishers.set(k, publish(url(k)));

    const liveRelays = async (): Promise<number> => {
      let live = 0;
      for (const id of channels) {
        const ch = await call('GET', `/v1/channels/${id}`);
        if (!ch.currentSessionId) continue;
        const s = await call('GET', `/v1/sessions/${String(ch.currentSessionId)}`);
        live += (s.destinations as Array<{ state: string }>).filter(
          (d) => d.state === 'live',
        ).length;
      }
      return live;
    };
    const recovered = async (what: string): Promise<void> => {
      const deadline = Date.now() + RECOVER_MS;
      let live = 0;
      while (Date.now() < deadline) {
        live = await liveRelays();
        if (live === K * M) return;
        await sleep(2000);
      }
      failures.push(`${what}: ${live}/${K * M} relays live ${RECOVER_MS / 1000} s later`);
    };
    await recovered('start');

    const samples: Sample[] = [];
    const started = Date.now();
    let lastTicks = treeTicks(app.child.pid!);
    let lastAt = Date.now();
    let nextSample = started + SAMPLE_S * 1000;
    let nextFault = started + FAULT_S * 1000;
    let fault = 0;
    console.log('| minute | RSS MB | heap MB | external MB | handles | CPU % | relays live |');
    console.log('|---|---|---|---|---|---|---|');
    while (Date.now() - started < MINUTES * 60_000) {
      if (Date.now() >= nextFault) {
        nextFault += FAULT_S * 1000;
        const which = fault++ % (M + 1);
        if (which < M) {
          console.log(`  fault ${fault}: destination sink ${which + 1} down for 20 s`);
          await sinks[which].stop();
          await sleep(20_000);
          await sinks[which].restart();
        } else {
          const quarter = [...publishers.keys()].filter((k) => k % 4 === fault % 4);
          console.log(`  fault ${fault}: ${quarter.length} publishers reconnect`);
          for (const k of quarter) await publishers.get(k)!.stop();
          await sleep(5000);
          for (const k of quarter) publishers.set(k, publish(url(k)));
        }
        await recovered(`fault ${fault}`);
      }
      if (Date.now() >= nextSample) {
        // (After a fault the loop was away: the next sample is a full period from now.)
        while (nextSample <= Date.now()) nextSample += SAMPLE_S * 1000;
        const ticks = treeTicks(app.child.pid!);
        const secs = (Date.now() - lastAt) / 1000;
        const cpuPct = (ticksBetween(lastTicks, ticks) / CLK_TCK / secs) * 100;
        lastTicks = ticks;
        lastAt = Date.now();
        const m = await metrics(app.baseUrl);
        const s: Sample = {
          minute: Math.round((Date.now() - started) / 6_000) / 10,
          rssMb: m.rss,
          heapMb: m.heap,
          externalMb: m.external,
          handles: m.handles,
          cpuPct,
          live: await liveRelays(),
        };
        samples.push(s);
        console.log(
          `| ${s.minute} | ${s.rssMb.toFixed(1)} | ${s.heapMb.toFixed(1)} | ${s.externalMb.toFixed(1)} | ${s.handles} | ${s.cpuPct.toFixed(1)} | ${s.live}/${K * M} |`,
        );
      }
      await sleep(1000);
    }
    const steady = samples.filter((s) => s.minute > WARMUP_MIN);
    for (const [name, pick, margin] of [
      ['RSS', (s: Sample) => s.rssMb, 0.25],
      ['heap', (s: Sample) => s.heapMb, 0.25],
      ['handles', (s: Sample) => s.handles, 0.1],
    ] as const) {
      if (unbounded(steady.map(pick), margin)) failures.push(`${name} grows without bound`);
    }
    if (app.child.exitCode !== null) failures.push(`service exited ${app.child.exitCode}`);
  } finally {
    for (const p of publishers.values()) await p.stop();
    const code = await app.stop('SIGTERM');
    if (code !== 0) failures.push(`service exited ${code} on SIGTERM`);
    await dropDatabase(env.DATABASE_URL).catch(() => undefined);
    await flushQueuePrefix(env.QUEUE_PREFIX).catch(() => undefined);
    for (const s of sinks) await s.remove();
    await stopAllMedia();
  }
  console.log(failures.length ? `\nFAILED:\n- ${failures.join('\n- ')}` : '\nsoak passed');
  if (failures.length) process.exitCode = 1;
}

void main().catch((err: Error) => {
  console.error(err);
  process.exitCode = 1;
});
