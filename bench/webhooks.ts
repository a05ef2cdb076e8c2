/**
 * Inbound Shopify webhooks: how many signed webhooks per second the service verifies and
 * durably records (row committed before the 200), with p50/p99, beside bare endpoints of
 * the same app in the same run; p99 at a steady 1,000/s; and how many answered 2xx were
 * lost (not recorded) or still pending when the worker stopped making progress.
 * Run: npm run bench:webhooks
 *
 * Everything shares this machine's cores: the load generator, the api process, Postgres, Redis,
 * and the worker that applies the events. So the maximum is measured twice: with the
 * worker applying at the same time (sustained, everything on one box), and with the
 * worker stopped for the run (what the api role and Postgres absorb in a burst; the worker
 * is then started and the backlog's drain is timed).
 */
import { randomUUID } from 'node:crypto';
import autocannon from 'autocannon';
import Redis from 'ioredis';
import { Client } from 'pg';
import {
  SHOPIFY_SECRET,
  shopifyEnv,
  startLocalShopify,
  startStoreInstall,
  waitForImportOverHttp,
} from '../test/support/commerce';
import { freePort } from '../test/support/processes';
import { dropDatabase, flushQueuePrefix, testEnv } from '../test/support/test-env';
import { signWebhookBody } from '../src/stores/providers/shopify/shopify-signatures';
import { SteadyRequest, SteadyResult, steadyRate } from './support/steady-rate';
import { forkBenchApp } from './support/bench-app';
import { CLK_TCK, procStat } from './support/proc';

const DURATION_S = Number(process.env.BENCH_DURATION ?? 10);
// Closed loop: throughput = connections / latency. Each webhook waits for its group commit
// and the applier's wake-up (~10-20 ms), so 64 connections cap the rate below the route's
// capacity; Shopify delivers with many connections at once.
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 256);

type Result = autocannon.Result;

/** CPU seconds (user + system) a process has used, from /proc (Linux). */
function cpuSeconds(pid: number | undefined): number {
  return pid ? (procStat(pid)?.ticks ?? 0) / CLK_TCK : 0;
}

/** The Postgres backends serving this run's database (other databases on the server are not ours). */
async function ourPostgresPids(pg: Client): Promise<number[]> {
  const { rows } = await pg.query(
    `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`,
  );
  return rows.map((r: { pid: number }) => r.pid);
}

/** The Redis server this run's queues live on (its INFO names its process id). */
async function ourRedisPid(redisUrl: string): Promise<number | undefined> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    const m = /^process_id:(\d+)/m.exec(await redis.info('server'));
    return m ? Number(m[1]) : undefined;
  } finally {
    redis.disconnect();
  }
}

function run(opts: autocannon.Options): Promise<Result> {
  return new Promise((resolve, reject) => {
    autocannon(opts, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

async function main(): Promise<void> {
  const fake = await startLocalShopify({ products: 100 });
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = testEnv({
    PORT: String(port),
    ROLES: 'api',
    LOG_LEVEL: 'warn',
    ...shopifyEnv(base, fake.origin),
  });
  // As deployed: an api process takes the webhooks, a worker process applies them.
  const app = await forkBenchApp(env);
  const startWorker = async () =>
    forkBenchApp({ ...env, ROLES: 'worker', PORT: String(await freePort()) });
  let worker = await startWorker();
  const pg = new Client({ connectionString: env.DATABASE_URL });
  await pg.connect();
  const pending = async () =>
    (
      (await pg.query(`SELECT count(*)::int AS n FROM inbound_events WHERE applied_at IS NULL`))
        .rows[0] as { n: number }
    ).n;
  /**
   * Waits until every recorded event is applied, for as long as the worker makes progress
   * (gives up after 30 s without one event applied, or after 15 min); returns how long it
   * waited, how many it applied meanwhile and how many were still pending when it stopped
   * (pending, not lost: the bench reports them apart).
   */
  const drain = async (): Promise<{ ms: number; applied: number; left: number }> => {
    const t0 = Date.now();
    const first = await pending();
    let left = first;
    let progressAt = t0;
    while (left > 0 && Date.now() - progressAt < 30_000 && Date.now() - t0 < 900_000) {
      await new Promise((res) => setTimeout(res, 100));
      const now = await pending();
      if (now < left) progressAt = Date.now();
      left = now;
    }
    return { ms: Date.now() - t0, applied: first - left, left };
  };
  const redisPid = await ourRedisPid(env.REDIS_URL);
  try {
    // A linked store with its catalog, so the webhooks are applied to real rows.
    const { apiKey, connectionId, callback } = await startStoreInstall(base, fake.shop);
    await fetch(callback, { redirect: 'manual' });
    await waitForImportOverHttp(base, apiKey, connectionId);

    const product = fake.updateProduct([...fake.products.keys()][0], { title: 'Bench shirt' });
    const body = JSON.stringify(product);
    const headers = {
      'content-type': 'application/json',
      'x-shopify-topic': 'products/update',
      'x-shopify-hmac-sha256': signWebhookBody(body, SHOPIFY_SECRET),
      'x-shopify-shop-domain': fake.shop,
      'x-shopify-api-version': '2026-10',
      'x-shopify-triggered-at': new Date().toISOString(),
    };
    // Every delivery is a newer version of one of the products (its own title and a later
    // updated_at, round robin), signed for its own bytes: the worker really writes each
    // one (a repeated body would be dropped as stale after the first).
    const ids = [...fake.products.keys()];
    const clock0 = Date.now();
    let n = 0;
    /** A signed delivery: its own event id, a newer version of a product, the HMAC of its bytes. */
    const delivery = (id: string): { body: string; headers: Record<string, string> } => {
      const k = n++;
      const version = {
        ...product,
        id: ids[k % ids.length],
        title: `Bench shirt ${k}`,
        updated_at: new Date(clock0 + k).toISOString(),
      };
      const text = JSON.stringify(version);
      return {
        body: text,
        headers: {
          ...headers,
          'x-shopify-hmac-sha256': signWebhookBody(text, SHOPIFY_SECRET),
          'x-shopify-triggered-at': new Date().toISOString(),
          'x-shopify-webhook-id': id,
          'x-shopify-event-id': id,
        },
      };
    };
    const accepted: string[] = [];
    const webhookRequests = (): autocannon.Request[] => [
      {
        method: 'POST',
        path: '/webhooks/shopify',
        body,
        setupRequest: (req, context) => {
          const id = randomUUID();
          (context as { id?: string }).id = id;
          return { ...req, ...delivery(id) };
        },
        onResponse: (status, _body, context) => {
          if (status >= 200 && status < 300) accepted.push((context as { id: string }).id);
        },
      },
    ];

    // Warm-up (JIT, pools), not reported.
    await run({ url: base, connections: 16, duration: 2, requests: webhookRequests() });
    for (const path of ['/bench/bare-ahead', '/bench/bare']) {
      await run({
        url: `${base}${path}`,
        method: 'POST',
        body,
        headers,
        connections: 16,
        duration: 2,
      });
    }

    /** A run, with the CPU each party spent per request answered 2xx. */
    const measured = async (opts: autocannon.Options) => {
      const pids = {
        api: app.child.pid,
        worker: worker.child.exitCode === null ? worker.child.pid : undefined,
      };
      // Only this run's processes: the backends of its database (the pools keep theirs for
      // the run; one that exits meanwhile takes its CPU time with it) and its Redis server.
      const pgPids = await ourPostgresPids(pg);
      const cpu = () => ({
        api: cpuSeconds(pids.api),
        worker: cpuSeconds(pids.worker),
        postgres: pgPids.reduce((n, pid) => n + cpuSeconds(pid), 0),
        redis: cpuSeconds(redisPid),
        load: process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6,
      });
      const before = cpu();
      const result = await run({ connections: CONNECTIONS, duration: DURATION_S, ...opts });
      const after = cpu();
      // (Postgres backends that exit during the run take their CPU time with them: ≥ 0.)
      const per = (k: keyof typeof before) =>
        Math.max(0, Math.round(((after[k] - before[k]) * 1e6) / Math.max(result['2xx'], 1)));
      const spent = `api ${per('api')} µs, Postgres ${per('postgres')} µs, worker ${per('worker')} µs, Redis ${per('redis')} µs, load generator ${per('load')} µs`;
      return Object.assign(result, { spent });
    };
    const bare = (path: string) =>
      measured({
        url: `${base}${path}`,
        method: 'POST',
        body,
        headers: { ...headers, 'x-shopify-event-id': 'bare' },
      });
    // p99 at 1,000/s: open loop, one request due every millisecond (bench/support/steady-rate.ts
    // says why not autocannon's overallRate), first to the bare endpoint (what this generator
    // and the HTTP stack add), then webhooks with the worker applying them. Before the runs
    // at full load; it is run again after them, when Postgres and the kernel are still
    // writing out the ~120,000 rows those left behind.
    const onResponse = (status: number, req: SteadyRequest) => {
      if (req.path === '/webhooks/shopify' && status >= 200 && status < 300)
        accepted.push(req.headers['x-shopify-event-id']);
    };
    const steady = (next: () => SteadyRequest, durationS = DURATION_S) =>
      steadyRate({
        url: base,
        rate: 1000,
        durationS,
        maxSockets: 64,
        next,
        onResponse,
      });
    const bareRequest = (): SteadyRequest => ({
      method: 'POST',
      path: '/bench/bare-ahead',
      headers: { ...headers, 'x-shopify-event-id': 'bare' },
      body,
    });
    /** What Postgres wrote out meanwhile (checkpoints compete with commits for the disk). */
    const bgwriter = async () =>
      (
        await pg.query(
          `SELECT checkpoints_timed + checkpoints_req AS checkpoints,
                  buffers_checkpoint + buffers_clean + buffers_backend AS buffers
             FROM pg_stat_bgwriter`,
        )
      ).rows[0] as { checkpoints: string; buffers: string };
    const writtenSince = async (before: { checkpoints: string; buffers: string }) => {
      const after = await bgwriter();
      const mb = ((Number(after.buffers) - Number(before.buffers)) * 8) / 1024;
      return `checkpoints ${Number(after.checkpoints) - Number(before.checkpoints)}, ${Math.round(mb)} MB of buffers written`;
    };
    const freshWrites = await bgwriter();
    const steadyBare = await steady(bareRequest);
    const steadyWebhookRequest = (): SteadyRequest => {
      return { method: 'POST', path: '/webhooks/shopify', ...delivery(randomUUID()) };
    };
    await steady(steadyWebhookRequest, 5); // warm-up at this rate (JIT, the worker), not reported
    const steadyWebhooks = await steady(steadyWebhookRequest);
    const freshWritten = await writtenSince(freshWrites);

    const bareAhead = await bare('/bench/bare-ahead');
    const bareNest = await bare('/bench/bare');
    const webhooksAtMax = () => measured({ url: base, requests: webhookRequests() });
    await drain();
    const sustained = await webhooksAtMax();
    await drain();
    await worker.stop();
    const before = accepted.length;
    const burst = await webhooksAtMax();
    const backlog = await pending();
    const burstAccepted = accepted.length - before;
    const restart = Date.now();
    worker = await startWorker();
    const workerUp = Date.now() - restart;
    const drained = await drain();
    const afterWrites = await bgwriter();
    const steadyBareAfter = await steady(bareRequest);
    const steadyAfter = await steady(steadyWebhookRequest);
    const afterWritten = await writtenSince(afterWrites);
    // Lost: answered 2xx but not recorded. Recorded but not applied when the last drain
    // gave up is reported apart: still pending, which the worker finishes after the bench.
    let notRecorded = 0;
    for (let i = 0; i < accepted.length; i += 10_000) {
      const chunk = accepted.slice(i, i + 10_000);
      const r = await pg.query(
        `SELECT count(*)::int AS n FROM inbound_events WHERE provider = 'shopify' AND event_key = ANY($1)`,
        [chunk],
      );
      notRecorded += chunk.length - (r.rows[0] as { n: number }).n;
    }
    const notApplied = (await drain()).left;
    // What the worker did with them: written (a newer version each), or dropped as stale.
    const outcomes = (
      await pg.query(
        `SELECT outcome, count(*)::int AS n FROM inbound_events WHERE topic = 'products/update' GROUP BY outcome ORDER BY outcome`,
      )
    ).rows as Array<{ outcome: string; n: number }>;

    const rate = (r: Result) => Math.round(r['2xx'] / (r.duration || DURATION_S));
    const row = (name: string, r: Result) =>
      `${name.padEnd(34)} ${String(rate(r)).padStart(7)}/s  p50 ${String(r.latency.p50).padStart(4)} ms  p99 ${String(r.latency.p99).padStart(4)} ms  non-2xx ${r.non2xx}  errors ${r.errors}`;
    console.log(
      `\nInbound webhooks (${CONNECTIONS} connections, ${DURATION_S} s per run, body ${body.length} B)`,
    );
    console.log(row('bare endpoint, served ahead', bareAhead));
    console.log(row('bare endpoint, Express + Nest', bareNest));
    console.log(row('webhooks, max, worker applying', sustained));
    console.log(row('webhooks, max, worker stopped', burst));
    const steadyRow = (name: string, r: SteadyResult) =>
      `${name.padEnd(34)} ${String(Math.round(r.ok / DURATION_S)).padStart(7)}/s  p50 ${String(r.latency.p50).padStart(4)} ms  p99 ${String(r.latency.p99).padStart(4)} ms  max ${r.latency.max} ms  non-2xx ${r.non2xx}  errors ${r.errors}`;
    console.log('steady 1,000/s (open loop, latency from when each request was due):');
    console.log(steadyRow('bare endpoint, served ahead', steadyBare));
    console.log(steadyRow('webhooks, worker applying', steadyWebhooks));
    console.log(`  (Postgres meanwhile: ${freshWritten})`);
    console.log('the same, right after the max runs and the drain:');
    console.log(steadyRow('bare endpoint, served ahead', steadyBareAfter));
    console.log(steadyRow('webhooks, worker applying', steadyAfter));
    console.log(`  (Postgres meanwhile: ${afterWritten})`);
    console.log('CPU per request answered 2xx:');
    console.log(`  bare, served ahead:     ${bareAhead.spent}`);
    console.log(`  bare, Express + Nest:   ${bareNest.spent}`);
    console.log(`  webhooks, worker on:    ${sustained.spent}`);
    console.log(`  webhooks, worker off:   ${burst.spent}`);
    console.log(
      `burst backlog: ${burstAccepted} accepted, ${backlog} left to apply when it ended; ` +
        `worker started in ${(workerUp / 1000).toFixed(1)} s, then applied ${drained.applied} in ` +
        `${(drained.ms / 1000).toFixed(1)} s (${Math.round(drained.applied / Math.max(drained.ms / 1000, 0.001))}/s)` +
        (drained.left > 0 ? `, ${drained.left} still pending when the drain gave up` : ''),
    );
    console.log(
      `accepted (2xx) in all runs: ${accepted.length}; lost (answered 2xx, not recorded): ${notRecorded}; ` +
        `recorded but still pending at the end: ${notApplied}; ` +
        `applied as: ${outcomes.map((o) => `${o.outcome} ${o.n}`).join(', ')}`,
    );
    if (notRecorded > 0) process.exitCode = 1;
  } finally {
    await pg.end();
    await app.stop();
    await worker.stop();
    await fake.close();
    await dropDatabase(env.DATABASE_URL);
    await flushQueuePrefix(env.QUEUE_PREFIX);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
