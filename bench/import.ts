/**
 * Catalog import: 10,000 products × 3 variants from a local Shopify-like store (REST Admin
 * API shapes, 250 per page, Link cursors), from the OAuth callback to `sync.state: idle`.
 * The store runs in this process, Castbridge (api + worker) in a child process.
 * Run: npm run bench:import
 */
import { Client } from 'pg';
import { SHOPIFY_KEY, SHOPIFY_SECRET } from '../test/support/commerce';
import { startFakeShopify } from '../test/support/fake-shopify';
import { freePort, waitFor } from '../test/support/processes';
import { dropDatabase, flushQueuePrefix, testEnv } from '../test/support/test-env';
import { forkBenchApp, startStoreInstall } from './support/bench-app';

const PRODUCTS = Number(process.env.BENCH_PRODUCTS ?? 10_000);
const VARIANTS = 3;

async function main(): Promise<void> {
  const fake = await startFakeShopify({
    apiKey: SHOPIFY_KEY,
    apiSecret: SHOPIFY_SECRET,
    products: PRODUCTS,
    variantsPerProduct: VARIANTS,
  });
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = testEnv({
    PORT: String(port),
    PUBLIC_BASE_URL: base,
    ROLES: 'api,worker',
    LOG_LEVEL: 'warn',
    SHOPIFY_API_KEY: SHOPIFY_KEY,
    SHOPIFY_API_SECRET: SHOPIFY_SECRET,
    SHOPIFY_API_ORIGIN: fake.origin,
  });
  const app = await forkBenchApp(env);
  try {
    const { apiKey, connectionId, callback } = await startStoreInstall(base, fake.shop);

    const started = Date.now();
    await fetch(callback, { redirect: 'manual' });
    const done = await waitFor(
      async () => {
        const r = await fetch(`${base}/v1/store-connections/${connectionId}`, {
          headers: { authorization: `Bearer ${apiKey}` },
        });
        const c = (await r.json()) as {
          sync: { state: string; imported: number; lastSyncedAt: string | null };
        };
        return c.sync.lastSyncedAt ? c : null;
      },
      { what: 'import', timeoutMs: 300_000, intervalMs: 50 },
    );
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
