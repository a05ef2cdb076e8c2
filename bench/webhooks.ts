/**
 * Inbound Shopify webhooks: how many signed webhooks per second the service verifies and
 * durably records (row committed before the 200), with p50/p99, beside a bare endpoint of
 * the same app in the same run; p99 at a fixed 1,000/s; and how many answered 2xx were
 * lost (not recorded, or never applied). Run: npm run bench:webhooks
 */
import { randomUUID } from 'node:crypto';
import autocannon from 'autocannon';
import { Client } from 'pg';
import { SHOPIFY_KEY, SHOPIFY_SECRET } from '../test/support/commerce';
import { startFakeShopify } from '../test/support/fake-shopify';
import { freePort, waitFor } from '../test/support/processes';
import { dropDatabase, flushQueuePrefix, testEnv } from '../test/support/test-env';
import { signWebhookBody } from '../src/stores/providers/shopify/shopify-signatures';
import { forkBenchApp, startStoreInstall } from './support/bench-app';

const DURATION_S = Number(process.env.BENCH_DURATION ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);

type Result = autocannon.Result;

function run(opts: autocannon.Options): Promise<Result> {
  return new Promise((resolve, reject) => {
    autocannon(opts, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

async function main(): Promise<void> {
  const fake = await startFakeShopify({
    apiKey: SHOPIFY_KEY,
    apiSecret: SHOPIFY_SECRET,
    products: 100,
  });
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = testEnv({
    PORT: String(port),
    PUBLIC_BASE_URL: base,
    ROLES: 'api',
    LOG_LEVEL: 'warn',
    SHOPIFY_API_KEY: SHOPIFY_KEY,
    SHOPIFY_API_SECRET: SHOPIFY_SECRET,
    SHOPIFY_API_ORIGIN: fake.origin,
  });
  // As deployed: an api process takes the webhooks, a worker process applies them.
  const app = await forkBenchApp(env);
  const worker = await forkBenchApp({ ...env, ROLES: 'worker', PORT: String(await freePort()) });
  try {
    // A linked store with its catalog, so the webhooks are applied to real rows.
    const { apiKey, connectionId, callback } = await startStoreInstall(base, fake.shop);
    await fetch(callback, { redirect: 'manual' });
    await waitFor(
      async () => {
        const r = await fetch(`${base}/v1/store-connections/${connectionId}`, {
          headers: { authorization: `Bearer ${apiKey}` },
        });
        return ((await r.json()) as { sync: { lastSyncedAt: string | null } }).sync.lastSyncedAt;
      },
      { what: 'import', timeoutMs: 60_000 },
    );

    const product = fake.updateProduct([...fake.products.keys()][0], { title: 'Bench shirt' });
    const body = JSON.stringify(product);
    const headers = {
      'content-type': 'application/json',
      'x-shopify-topic': 'products/update',
      'x-shopify-hmac-sha256': signWebhookBody(body, SHOPIFY_SECRET),
      'x-shopify-shop-domain': fake.shop,
      'x-shopify-api-version': '2025-10',
      'x-shopify-triggered-at': new Date().toISOString(),
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
          return {
            ...req,
            headers: { ...headers, 'x-shopify-webhook-id': id, 'x-shopify-event-id': id },
          };
        },
        onResponse: (status, _body, context) => {
          if (status >= 200 && status < 300) accepted.push((context as { id: string }).id);
        },
      },
    ];

    // Warm-up (JIT, pools), not reported.
    await run({ url: base, connections: 16, duration: 2, requests: webhookRequests() });
    await run({
      url: `${base}/bench/bare`,
      method: 'POST',
      body,
      headers,
      connections: 16,
      duration: 2,
    });

    const bare = await run({
      url: `${base}/bench/bare`,
      method: 'POST',
      body,
      headers: { ...headers, 'x-shopify-event-id': 'bare' },
      connections: CONNECTIONS,
      duration: DURATION_S,
    });
    const max = await run({
      url: base,
      connections: CONNECTIONS,
      duration: DURATION_S,
      requests: webhookRequests(),
    });
    const fixed = await run({
      url: base,
      connections: 32,
      duration: DURATION_S,
      overallRate: 1000,
      requests: webhookRequests(),
    });

    // Lost: answered 2xx but not recorded, or recorded but never applied.
    const pg = new Client({ connectionString: env.DATABASE_URL });
    await pg.connect();
    let notRecorded = 0;
    let notApplied = 0;
    try {
      for (let i = 0; i < accepted.length; i += 10_000) {
        const chunk = accepted.slice(i, i + 10_000);
        const r = await pg.query(
          `SELECT count(*)::int AS n FROM inbound_events WHERE provider = 'shopify' AND event_key = ANY($1)`,
          [chunk],
        );
        notRecorded += chunk.length - (r.rows[0] as { n: number }).n;
      }
      const drainStart = Date.now();
      for (;;) {
        const r = await pg.query(
          `SELECT count(*)::int AS n FROM inbound_events WHERE applied_at IS NULL`,
        );
        notApplied = (r.rows[0] as { n: number }).n;
        if (notApplied === 0 || Date.now() - drainStart > 120_000) break;
        await new Promise((res) => setTimeout(res, 250));
      }
    } finally {
      await pg.end();
    }

    const rate = (r: Result) => Math.round(r['2xx'] / (r.duration || DURATION_S));
    const row = (name: string, r: Result) =>
      `${name.padEnd(34)} ${String(rate(r)).padStart(7)}/s  p50 ${String(r.latency.p50).padStart(4)} ms  p99 ${String(r.latency.p99).padStart(4)} ms  non-2xx ${r.non2xx}  errors ${r.errors}`;
    console.log(
      `\nInbound webhooks (${CONNECTIONS} connections, ${DURATION_S} s per run, body ${body.length} B)`,
    );
    console.log(row('bare endpoint (same app)', bare));
    console.log(row('POST /webhooks/shopify, max', max));
    console.log(row('POST /webhooks/shopify, 1,000/s', fixed));
    console.log(
      `accepted (2xx) in all runs: ${accepted.length}; lost: ${notRecorded + notApplied} (not recorded ${notRecorded}, not applied ${notApplied})`,
    );
  } finally {
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
