/**
 * Hostile-connection benchmark: what 1,000 unauthenticated RTMP connections cost the
 * service, and whether a real creator can still go live while they last.
 *
 *   npm run bench:hostile -- [CONNECTIONS] [SECONDS]   (default: 1000 30)
 *
 * Needs the built service, Postgres, Redis, ffmpeg and nginx-rtmp (as the tests). Loopback
 * only; the attackers use 127.0.4.x source addresses, 10 connections each (the default
 * per-address cap), and re-open every connection the service closes, so the number of
 * hostile connections stays at CONNECTIONS for the whole attack.
 *
 * Four kinds, a quarter each: idle (connect, send nothing), slow handshake (one byte of
 * C1 every 200 ms), garbage (2 KB of random bytes every 100 ms), and malformed commands
 * (a full handshake, then truncated AMF: closed at once, re-opened at once: churn).
 * Measured: the service process's RSS and CPU (% of one core) idle for 10 s, then during
 * the attack; the connections accepted, refused and closed by the service; and a real
 * creator (ffmpeg test pattern) starting 10 s into the attack: time until its channel is
 * live and until its destination (an nginx-rtmp sink) has video.
 */
import { randomBytes } from 'node:crypto';
import * as net from 'node:net';
import { cpus } from 'node:os';
import { hasVideo, publishTestPattern, startNginxSink, stopAllMedia } from '../test/support/media';
import { newPartnerClient, waitReady } from '../test/support/partner-client';
import { freePort, spawnCastbridge, waitFor } from '../test/support/processes';
import { dropDatabase, flushQueuePrefix, testEnv } from '../test/support/test-env';
import { chunkMessage } from '../test/support/rtmp-peers';
import { CLK_TCK, rssKb, ticksBetween, treeTicks } from './support/proc';

const CONNECTIONS = Number(process.argv[2] ?? 1000);
const ATTACK_S = Number(process.argv[3] ?? 30);
const PER_ADDRESS = 10;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Kind = 'idle' | 'slow' | 'garbage' | 'malformed';
const KINDS: Kind[] = ['idle', 'slow', 'garbage', 'malformed'];

interface Counts {
  opened: number;
  refused: number;
  closedByServer: number;
}

/** Keeps one hostile connection of `kind` open (re-opened when closed) until `stop()`. */
function attacker(port: number, kind: Kind, localAddress: string, counts: Counts): () => void {
  let stopped = false;
  let socket: net.Socket | null = null;
  let timer: NodeJS.Timeout | null = null;
  const open = () => {
    if (stopped) return;
    const s = net.createConnection({ port, host: '127.0.0.1', localAddress });
    socket = s;
    let connectedAt = 0;
    s.on('error', () => undefined);
    s.once('connect', () => {
      counts.opened += 1;
      connectedAt = Date.now();
      if (kind === 'slow') {
        s.write(Buffer.from([3]));
        timer = setInterval(() => s.write(randomBytes(1)), 200);
      } else if (kind === 'garbage') {
        timer = setInterval(() => s.write(randomBytes(2048)), 100);
      } else if (kind === 'malformed') {
        s.write(Buffer.concat([Buffer.from([3]), randomBytes(1536)]));
        s.once('data', () => {
          s.write(randomBytes(1536));
          s.write(chunkMessage({ type: 20, payload: Buffer.from([0x02, 0xff, 0xff, 0x41]) }));
        });
      }
    });
    s.once('close', () => {
      if (timer) clearInterval(timer);
      timer = null;
      if (connectedAt === 0) counts.refused += 1;
      else if (Date.now() - connectedAt < 20)
        counts.refused += 1; // destroyed at accept
      else counts.closedByServer += 1;
      // Attackers come back at once (with a little jitter so they do not move in lockstep).
      if (!stopped) setTimeout(open, kind === 'malformed' ? 0 : Math.random() * 50);
    });
  };
  open();
  return () => {
    stopped = true;
    if (timer) clearInterval(timer);
    socket?.destroy();
  };
}

function sample(pid: number): { ticks: ReturnType<typeof treeTicks>; at: number } {
  return { ticks: treeTicks(pid), at: Date.now() };
}

function cpuPct(a: ReturnType<typeof sample>, b: ReturnType<typeof sample>): number {
  return (ticksBetween(a.ticks, b.ticks) / CLK_TCK / ((b.at - a.at) / 1000)) * 100;
}

async function main(): Promise<void> {
  const rtmpPort = await freePort();
  const env = testEnv({
    RTMP_PORT: String(rtmpPort),
    // Room for the attackers beside the creator (the default cap is 1000 in all).
    RTMP_MAX_CONNECTIONS: String(CONNECTIONS + 500),
    LOG_LEVEL: 'warn',
  });
  const app = await spawnCastbridge(env);
  const sink = await startNginxSink();
  const stops: Array<() => void> = [];
  try {
    await waitReady(app.baseUrl);
    const pid = app.child.pid!;
    const partner = await newPartnerClient(app.baseUrl, 'Bench');
    const ch = (await partner.ok('POST', '/v1/channels', { name: 'Creator' })) as {
      id: string;
      ingest: { streamKey: string };
    };
    await partner.call('POST', `/v1/channels/${ch.id}/destinations`, {
      name: 'sink',
      kind: 'social_platform',
      url: sink.url,
      streamKey: 'creator',
    });

    await sleep(3000);
    const idle0 = sample(pid);
    const rssIdle = rssKb(pid);
    await sleep(10_000);
    const idle1 = sample(pid);
    const idleCpu = cpuPct(idle0, idle1);

    const counts: Counts = { opened: 0, refused: 0, closedByServer: 0 };
    const addresses = Math.ceil(CONNECTIONS / PER_ADDRESS);
    for (let i = 0; i < CONNECTIONS; i++) {
      const a = Math.floor(i / PER_ADDRESS);
      const address = `127.0.${4 + Math.floor(a / 250)}.${1 + (a % 250)}`;
      stops.push(attacker(rtmpPort, KINDS[i % KINDS.length]!, address, counts));
      if (i % 100 === 99) await sleep(20);
    }
    const attackStart = sample(pid);
    let rssPeak = 0;
    const rssTimer = setInterval(() => (rssPeak = Math.max(rssPeak, rssKb(pid))), 250);

    await sleep(10_000);
    const pub = publishTestPattern(`rtmp://127.0.0.1:${rtmpPort}/live/${ch.ingest.streamKey}`);
    const pubStart = Date.now();
    const liveMs = await waitFor(
      async () => {
        const c = await partner.ok('GET', `/v1/channels/${ch.id}`);
        return c.status === 'live' ? Date.now() - pubStart : null;
      },
      { what: 'creator live', timeoutMs: 30_000, intervalMs: 50 },
    ).catch(() => null);
    const videoMs = await waitFor(
      async () => ((await hasVideo(`${sink.url}/creator`)) ? Date.now() - pubStart : null),
      { what: 'video at the sink', timeoutMs: 30_000, intervalMs: 100 },
    ).catch(() => null);

    const remaining = ATTACK_S * 1000 - (Date.now() - attackStart.at);
    if (remaining > 0) await sleep(remaining);
    const attackEnd = sample(pid);
    const pending = await fetch(`${app.baseUrl}/metrics`).then((r) => r.text());
    const pendingNow = /castbridge_ingest_connections\{state="pending"\} (\d+)/.exec(pending)?.[1];
    clearInterval(rssTimer);
    for (const s of stops) s();
    await pub.stop();
    await sleep(8000);
    const rssAfter = rssKb(pid);
    const mb = (kb: number) => (kb / 1024).toFixed(1);

    console.log(
      `\nHostile RTMP connections: ${CONNECTIONS} (${KINDS.join(', ')}; a quarter each), ` +
        `from ${addresses} addresses × ${PER_ADDRESS}, for ${ATTACK_S} s, kept open by re-connecting`,
    );
    console.log(`machine: ${cpus().length} cores, CLK_TCK ${CLK_TCK}`);
    console.log('');
    console.log('| | value |');
    console.log('|---|---|');
    console.log(`| service CPU idle (10 s) | ${idleCpu.toFixed(1)} % of a core |`);
    console.log(
      `| service CPU under attack (${ATTACK_S} s, creator included) | ${cpuPct(attackStart, attackEnd).toFixed(1)} % of a core |`,
    );
    console.log(
      `| service RSS idle → peak under attack → 8 s after | ${mb(rssIdle)} → ${mb(rssPeak)} → ${mb(rssAfter)} MB |`,
    );
    console.log(
      `| RSS per hostile connection (peak − idle) | ${((((rssPeak - rssIdle) / CONNECTIONS) * 1024) / 1024).toFixed(1)} kB |`,
    );
    console.log(`| pending connections at the end (metric) | ${pendingNow ?? '?'} |`);
    console.log(
      `| connections opened / refused at once / closed by the service | ${counts.opened} / ${counts.refused} / ${counts.closedByServer} |`,
    );
    console.log(
      `| creator: publish → channel live | ${liveMs === null ? 'NOT LIVE' : `${(liveMs / 1000).toFixed(2)} s`} |`,
    );
    console.log(
      `| creator: publish → video at its destination | ${videoMs === null ? 'NO VIDEO' : `${(videoMs / 1000).toFixed(2)} s`} |`,
    );
    console.log(
      `| process alive afterwards | ${app.child.exitCode === null ? 'yes' : `no (exit ${app.child.exitCode})`} |`,
    );
  } finally {
    for (const s of stops) s();
    await app.stop('SIGTERM');
    await sink.stop();
    await stopAllMedia();
    await dropDatabase(env.DATABASE_URL);
    await flushQueuePrefix(env.QUEUE_PREFIX);
  }
}

main()
  .then(() => process.exit(0))
  .catch((e: Error) => {
    console.error(`benchmark failed: ${e.stack ?? e.message}`);
    process.exit(1);
  });
