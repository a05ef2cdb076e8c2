/**
 * Catalog import: 10,000 products × 3 variants from the local Shopify-like store (GraphQL
 * Admin API: two bulk operations, products then stock per location, each JSONL file
 * streamed and written in batches), from the OAuth callback to `sync.state: idle`.
 * The store runs in this process, Castbridge (api + worker) in a child process.
 * Run: npm run bench:import
 */
import { Client } from 'pg';
import {
  shopifyEnv,
  startLocalShopify,
  startStoreInstall,
  waitForImportOverHttp,
} from '../test/support/commerce';
import { freePort } from '../test/support/processes';
import { dropDatabase, flushQueuePrefix, testEnv } from '../test/support/test-env';
import { forkBenchApp } from './support/bench-app';

const PRODUCTS = Number(process.env.BENCH_PRODUCTS ?? 10_000);
const VARIANTS = 3;

async function main(): Promise<void> {
  const fake = await startLocalShopify({ products: PRODUCTS, variantsPerProduct: VARIANTS });
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = testEnv({
    PORT: String(port),
    ROLES: 'api,worker',
    LOG_LEVEL: 'warn',
    ...shopifyEnv(base, fake.origin),
  });
  const app = await forkBenchApp(env);
  try {
    const { apiKey, connectionId, callback } = await startStoreInstall(base, fake.shop);

    const started = Date.now();
    await fetch(callback, { redirect: 'manual' });
    const done = await waitForImportOverHttp(base, apiKey, connectionId, {
      timeoutMs: 300_000,
      intervalMs: 50,
    });
    const seconds = (Date.now() - started) / 1000;
    if (process.env.BENCH_TRACE)
      for (const r of fake.requests)
        console.log(r.at - started, r.path, r.fields.join(','), r.status);

    const pg = new Client({ connectionString: env.DATABASE_URL });
    await pg.connect();
    const { rows } = await pg.query(
      `SELECT (SELECT count(*)::int FROM products) AS p, (SELECT count(*)::int FROM variants) AS v`,
    );
    await pg.end();
    const calls = fake.requests.filter((r) => r.path.endsWith('/graphql.json')).length;
    const downloads = fake.requests.filter((r) => r.path.startsWith('/bulk-results/')).length;
    const [{ n: levels }] = (await pgCount(env.DATABASE_URL)) as Array<{ n: number }>;
    console.log(
      `\nCatalog import: ${PRODUCTS.toLocaleString('en')} products × ${VARIANTS} variants by bulk operations ` +
        `(${calls} GraphQL calls, ${downloads} JSONL downloads, ${levels} stock levels)`,
    );
    console.log(
      `callback → sync idle: ${seconds.toFixed(2)} s (${Math.round(PRODUCTS / seconds)} products/s); ` +
        `stored ${rows[0].p} products, ${rows[0].v} variants; sync.imported ${done.sync.imported}`,
    );
  } finally {
    await app.stop();
    await fake.close();
    await dropDatabase(env.DATABASE_URL);
    await flushQueuePrefix(env.QUEUE_PREFIX);
  }
}

async function pgCount(url: string): Promise<unknown[]> {
  const pg = new Client({ connectionString: url });
  await pg.connect();
  try {
    return (await pg.query(`SELECT count(*)::int AS n FROM inventory_levels`)).rows;
  } finally {
    await pg.end();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
