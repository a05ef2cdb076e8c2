/**
 * What a recording adds to a live passthrough session: the service (all roles in one
 * process, with any ffmpeg children) measured for W seconds idle, then ROUNDS times a
 * session relayed to an nginx-rtmp sink (passthrough push) and the same session also
 * recorded (STORAGE_DRIVER=local), alternating, so that the heap's own drift and the
 * machine's noise fall on both sides. CPU of the process tree and its memory (PSS), the
 * means of the rounds; the recording's share is (recorded − live) / (live − idle).
 * Target: under 10 %. Then the in-process segmenter alone, in this process, on the same
 * 60 s source: CPU per second of media (the part of the difference the noise hides).
 *
 *   npm run bench:recording -- [SECONDS] [ROUNDS]      (default 30, 2)
 *   RECORDING_SEGMENTER_ONLY=1 npm run bench:recording   (the segmenter alone)
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { join } from 'node:path';
import { startNginxRtmp } from '../test/support/nginx';
import { newPartnerClient, PartnerClient, waitReady } from '../test/support/partner-client';
import { freePort, spawnCastbridge, waitFor } from '../test/support/processes';
import { dropDatabase, flushQueuePrefix, testEnv } from '../test/support/test-env';
import { CLK_TCK, procStat, treePssKb, treeTicks, ticksBetween } from './support/proc';
import { ensureSource, publish, sleep, SOURCE } from './support/rtmp-bench';
import { publishFlv } from '../src/media/flv-source';
import { HlsSegmenter } from '../src/media/hls-segmenter';
import { MediaHub, MediaMessage } from '../src/media/media-hub';

const SECONDS = Number(process.argv[2] ?? 30);
const ROUNDS = Number(process.argv[3] ?? 2);

interface Figures {
  cpuPercent: number;
  /** The service's own process (its ffmpeg children are the rest). */
  mainCpuPercent: number;
  pssMb: number;
}

async function measure(pid: number): Promise<Figures> {
  const a = treeTicks(pid);
  const mainA = procStat(pid)?.ticks ?? 0;
  const started = Date.now();
  let pss = 0;
  let samples = 0;
  while (Date.now() - started < SECONDS * 1000) {
    await sleep(1000);
    pss += treePssKb(pid);
    samples += 1;
  }
  const b = treeTicks(pid);
  const mainB = procStat(pid)?.ticks ?? 0;
  const secs = (Date.now() - started) / 1000;
  return {
    cpuPercent: (ticksBetween(a, b) / CLK_TCK / secs) * 100,
    mainCpuPercent: ((mainB - mainA) / CLK_TCK / secs) * 100,
    pssMb: pss / Math.max(1, samples) / 1024,
  };
}

async function main(): Promise<void> {
  await ensureSource();
  const rtmpPort = await freePort();
  const env = testEnv({ LOG_LEVEL: 'warn', RTMP_PORT: String(rtmpPort) });
  const sink = await startNginxRtmp({ label: 'recording-sink' });
  const app = await spawnCastbridge(env);
  try {
    // A loaded machine may take long to start it.
    await waitFor(async () => (await fetch(`${app.baseUrl}/health/ready`)).status === 200, {
      what: 'ready',
      timeoutMs: 120_000,
    }).catch(() => waitReady(app.baseUrl));
    const partner: PartnerClient = await newPartnerClient(app.baseUrl, 'Bench');
    const ch = await partner.ok('POST', '/v1/channels', { name: 'Bench show' });
    const channelId = String(ch.id);
    const streamKey = (ch.ingest as { streamKey: string }).streamKey;
    await partner.ok('POST', `/v1/channels/${channelId}/destinations`, {
      name: 'sink',
      kind: 'social_platform',
      url: `${sink.url}`,
      streamKey: 'bench',
    });
    const pid = app.child.pid!;
    await sleep(15_000); // start-up work (migrations, first schedules) out of the way
    const idle = await measure(pid);

    const session = async (recorded: boolean): Promise<Figures> => {
      await partner.ok('PATCH', `/v1/channels/${channelId}`, { recording: recorded });
      const pub = publish(`rtmp://127.0.0.1:${rtmpPort}/live/${streamKey}`);
      const sessionId = await waitFor(
        async () => {
          const c = await partner.call('GET', `/v1/channels/${channelId}`);
          return c.body.status === 'live' ? String(c.body.currentSessionId) : null;
        },
        { what: 'live', timeoutMs: 30_000 },
      );
      await waitFor(
        async () => {
          const s = await partner.call('GET', `/v1/sessions/${sessionId}`);
          const live = (s.body.destinations as Array<{ state: string }>)[0]?.state === 'live';
          if (!recorded) return live;
          const r = await partner.call('GET', `/v1/sessions/${sessionId}/recording`);
          return live && Number(r.body.durationSeconds) > 0;
        },
        { what: 'relay live (and recording)', timeoutMs: 30_000 },
      );
      await sleep(2000);
      const figures = await measure(pid);
      await pub.stop();
      await waitFor(
        async () => (await partner.call('GET', `/v1/channels/${channelId}`)).body.status === 'idle',
        { what: 'session ended', timeoutMs: 30_000 },
      );
      if (recorded) {
        const r = await waitFor(
          async () => {
            const x = await partner.call('GET', `/v1/sessions/${sessionId}/recording`);
            return x.body.state === 'ready' ? x.body : null;
          },
          { what: 'recording ready', timeoutMs: 30_000 },
        );
        console.log(
          `  (recorded ${Number(r.durationSeconds).toFixed(1)} s, ${(Number(r.sizeBytes) / 1e6).toFixed(1)} MB)`,
        );
      }
      await sleep(3000);
      return figures;
    };

    const lives: Figures[] = [];
    const recordeds: Figures[] = [];
    // live, recorded, recorded, live, …: a drift of the heap or the machine over the run
    // falls on both sides alike.
    for (let round = 0; round < ROUNDS; round++) {
      for (const recorded of round % 2 === 0 ? [false, true] : [true, false]) {
        (recorded ? recordeds : lives).push(await session(recorded));
      }
    }
    const mean = (all: Figures[]): Figures => ({
      cpuPercent: all.reduce((t, f) => t + f.cpuPercent, 0) / all.length,
      mainCpuPercent: all.reduce((t, f) => t + f.mainCpuPercent, 0) / all.length,
      pssMb: all.reduce((t, f) => t + f.pssMb, 0) / all.length,
    });
    const live = mean(lives);
    const recorded = mean(recordeds);
    const cpuSession = live.cpuPercent - idle.cpuPercent;
    const cpuRecording = recorded.cpuPercent - live.cpuPercent;
    const memSession = live.pssMb - idle.pssMb;
    const memRecording = recorded.pssMb - live.pssMb;
    const fmt = (n: number) => n.toFixed(2);
    const each = (all: Figures[]) =>
      all.map((f) => `${fmt(f.cpuPercent)} %/${fmt(f.pssMb)} MB`).join(', ');
    console.log(
      `One 720p30 3 Mbps session, passthrough push to nginx-rtmp, ${SECONDS} s per phase, ${ROUNDS} rounds (service process tree):`,
    );
    console.log(
      `  idle                 CPU ${fmt(idle.cpuPercent)} % of a core, PSS ${fmt(idle.pssMb)} MB`,
    );
    console.log(
      `  live (no recording)  CPU ${fmt(live.cpuPercent)} %, PSS ${fmt(live.pssMb)} MB  (rounds: ${each(lives)})`,
    );
    console.log(
      `  live + recording     CPU ${fmt(recorded.cpuPercent)} %, PSS ${fmt(recorded.pssMb)} MB  (rounds: ${each(recordeds)})`,
    );
    console.log(
      `  the session costs    CPU ${fmt(cpuSession)} %, PSS ${fmt(memSession)} MB over idle`,
    );
    console.log(
      `  of which the service process: live ${fmt(live.mainCpuPercent)} %, live + recording ${fmt(recorded.mainCpuPercent)} % (the rest: ffmpeg children)`,
    );
    console.log(
      `  the recording adds   CPU ${fmt(cpuRecording)} % (${fmt((cpuRecording / cpuSession) * 100)} % of the session), ` +
        `PSS ${fmt(memRecording)} MB (${fmt((memRecording / Math.max(0.01, Math.abs(memSession))) * 100)} % of the session)`,
    );
  } catch (err) {
    console.error(app.output().slice(-3000));
    throw err;
  } finally {
    await app.stop('SIGTERM');
    await sink.remove();
    await dropDatabase(env.DATABASE_URL);
    await flushQueuePrefix(env.QUEUE_PREFIX);
  }
}

/** The source's messages as the hub hands them to a subscriber. */
async function sourceMessages(): Promise<MediaMessage[]> {
  const hub = new MediaHub();
  const got: MediaMessage[] = [];
  const source = publishFlv(hub, 'src', createReadStream(SOURCE))!;
  const unsubscribe = hub.subscribe('src', { deliver: (m) => got.push(m) });
  await source.ended;
  unsubscribe();
  return got;
}

/**
 * The in-process segmenter alone on the 60 s source, fed a second of media at a time
 * (each second's writes finish before the next): CPU (best of 3 runs, JIT warm), and the
 * buffer memory it holds (ArrayBuffers after a full collection, at each second) above
 * what the same process holds before it starts.
 */
async function segmenterAlone(): Promise<void> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const held = () => {
    gc(); // twice: what the first one finalizes (file handles) goes in the second
    gc();
    return process.memoryUsage().arrayBuffers;
  };
  const messages = await sourceMessages();
  const t0 = messages[0]!.timestamp;
  const mediaSeconds = (messages[messages.length - 1]!.timestamp - t0) / 1000;
  let best = Infinity;
  let bytes = 0;
  let peak = 0;
  for (let run = 0; run < 3; run++) {
    const dir = await mkdtemp(join(tmpdir(), 'bench-segmenter-'));
    // Memory in the first run, from before any segmenter existed (a finished one may be
    // held by the async frame until the next replaces it).
    if (run === 0) await sleep(200); // the source's reader and hub are gone
    const base = run === 0 ? held() : 0;
    let cpu = 0;
    const segmenter = new HlsSegmenter(dir, { segmentSeconds: 2, listSize: 30 });
    for (let i = 0, second = 1; i < messages.length; second++) {
      const before = process.cpuUsage();
      while (i < messages.length && messages[i]!.timestamp - t0 < second * 1000) {
        segmenter.deliver(messages[i++]!);
      }
      await segmenter.written();
      const used = process.cpuUsage(before);
      cpu += (used.user + used.system) / 1000;
      if (run === 0) peak = Math.max(peak, held() - base);
    }
    const before = process.cpuUsage();
    await segmenter.close();
    const used = process.cpuUsage(before);
    best = Math.min(best, cpu + (used.user + used.system) / 1000);
    bytes = segmenter.bytes;
    await rm(dir, { recursive: true, force: true });
  }
  console.log(
    `In-process segmenter alone (this process, ${mediaSeconds.toFixed(0)} s of the source, ${(bytes / 1e6).toFixed(1)} MB of MPEG-TS written):`,
  );
  console.log(
    `  ${best.toFixed(0)} ms CPU = ${((best / 1000 / mediaSeconds) * 100).toFixed(2)} % of a core at real time; ` +
      `holds at most ${(peak / 1024).toFixed(0)} KB of buffers (after a full GC, each second)`,
  );
}

// RECORDING_SEGMENTER_ONLY=1: only the segmenter alone (no service, no sink).
(process.env.RECORDING_SEGMENTER_ONLY ? ensureSource() : main())
  .then(() => segmenterAlone())
  .then(() => process.exit(0))
  .catch((e: Error) => {
    console.error(e.stack ?? e.message);
    process.exit(1);
  });
