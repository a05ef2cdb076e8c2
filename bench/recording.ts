/**
 * What a recording adds to a live passthrough session: the service (all roles in one
 * process, with its ffmpeg children) measured for W seconds idle, then with one session
 * relayed to an nginx-rtmp sink (passthrough push), then with the same session also
 * recorded (STORAGE_DRIVER=local). CPU of the process tree and its memory (PSS);
 * the recording's share is (recorded − live) / (live − idle). Target: under 10 %.
 *
 *   npm run bench:recording -- [SECONDS]      (default 30)
 */
import { startNginxRtmp } from '../test/support/nginx';
import { newPartnerClient, PartnerClient, waitReady } from '../test/support/partner-client';
import { freePort, spawnCastbridge, waitFor } from '../test/support/processes';
import { dropDatabase, flushQueuePrefix, testEnv } from '../test/support/test-env';
import { CLK_TCK, procStat, treePssKb, treeTicks, ticksBetween } from './support/proc';
import { ensureSource, publish, sleep } from './support/rtmp-bench';

const SECONDS = Number(process.argv[2] ?? 30);

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

    const live = await session(false);
    const recorded = await session(true);
    const cpuSession = live.cpuPercent - idle.cpuPercent;
    const cpuRecording = recorded.cpuPercent - live.cpuPercent;
    const memSession = live.pssMb - idle.pssMb;
    const memRecording = recorded.pssMb - live.pssMb;
    const fmt = (n: number) => n.toFixed(2);
    console.log(
      `One 720p30 3 Mbps session, passthrough push to nginx-rtmp, ${SECONDS} s per phase (service process tree):`,
    );
    console.log(
      `  idle                 CPU ${fmt(idle.cpuPercent)} % of a core, PSS ${fmt(idle.pssMb)} MB`,
    );
    console.log(`  live (no recording)  CPU ${fmt(live.cpuPercent)} %, PSS ${fmt(live.pssMb)} MB`);
    console.log(
      `  live + recording     CPU ${fmt(recorded.cpuPercent)} %, PSS ${fmt(recorded.pssMb)} MB`,
    );
    console.log(
      `  the session costs    CPU ${fmt(cpuSession)} %, PSS ${fmt(memSession)} MB over idle`,
    );
    console.log(
      `  of which the service process: live ${fmt(live.mainCpuPercent)} %, live + recording ${fmt(recorded.mainCpuPercent)} % (the rest: its ffmpeg children)`,
    );
    console.log(
      `  the recording adds   CPU ${fmt(cpuRecording)} % (${fmt((cpuRecording / cpuSession) * 100)} % of the session), ` +
        `PSS ${fmt(memRecording)} MB (${fmt((memRecording / Math.max(0.01, memSession)) * 100)} % of the session)`,
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

main()
  .then(() => process.exit(0))
  .catch((e: Error) => {
    console.error(e.stack ?? e.message);
    process.exit(1);
  });
