/**
 * Catalog import: 10,000 products × 3 variants from a local Shopify-like store (REST Admin
 * API shapes, 250 per page, Link cursors), from the OAuth callback to `sync.state: idle`.
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

    const pg = new Client({ connectionString: env.DATABASE_URL });
    await pg.connect();
    const { rows } = await pg.query(
      `SELECT (SELECT count(*)::int FROM products) AS p, (SELECT count(*)::int FROM variants) AS v`,
    );
    await pg.end();
    const pages = fake.requests.filter((r) => r.path.endsWith('/products.json')).length;
    console.log(
      `\nCatalog import: ${PRODUCTS.toLocaleString('en')} products × ${VARIANTS} variants, ${pages} pages of 250`,
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

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
