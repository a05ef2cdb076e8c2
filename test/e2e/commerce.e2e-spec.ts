import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import Redis from 'ioredis';
import { Client } from 'pg';
import { SHOPIFY_KEY, SHOPIFY_SECRET } from '../support/commerce';
import { FakeShopify, startFakeShopify } from '../support/fake-shopify';
import { CastbridgeProcess, freePort, ROOT, spawnCastbridge, waitFor } from '../support/processes';
import {
  dropDatabase,
  flushQueuePrefix,
  REDIS_URL,
  TEST_ADMIN_TOKEN,
  testEnv,
} from '../support/test-env';

/**
 * Commerce sync through the built service (a real process, real HTTP), with a local
 * Shopify-like store: install, import, webhooks, reconciliation, relink and removal;
 * then every secret (access tokens, the app secret) is looked for in everything the
 * process said: responses, logs, job payloads in Redis, stored errors.
 */
describe('commerce sync through the real process', () => {
  let fake: FakeShopify;
  let p: CastbridgeProcess;
  let env: Record<string, string>;
  const bodies: string[] = [];

  beforeAll(async () => {
    if (!existsSync(resolve(ROOT, 'dist/src/main.js'))) {
      throw new Error('dist/ is missing: the test command builds first (npm test)');
    }
    fake = await startFakeShopify({
      apiKey: SHOPIFY_KEY,
      apiSecret: SHOPIFY_SECRET,
      products: 600,
    });
    const port = await freePort();
    env = testEnv({
      LOG_LEVEL: 'debug',
      PORT: String(port),
      PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
      SHOPIFY_API_KEY: SHOPIFY_KEY,
      SHOPIFY_API_SECRET: SHOPIFY_SECRET,
      SHOPIFY_API_ORIGIN: fake.origin,
    });
    p = await spawnCastbridge(env);
    await waitFor(async () => (await fetch(`${p.baseUrl}/health/ready`)).status === 200, {
      what: 'ready',
      timeoutMs: 30_000,
    });
  });
  afterAll(async () => {
    await p?.stop();
    await fake?.close();
    if (!env) return; // beforeAll failed before it made one
    await dropDatabase(env.DATABASE_URL);
    await flushQueuePrefix(env.QUEUE_PREFIX);
  });

  async function call(method: string, path: string, auth: string, body?: unknown) {
    const res = await fetch(`${p.baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${auth}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      redirect: 'manual',
    });
    const text = await res.text();
    bodies.push(text);
    return { status: res.status, body: text ? (JSON.parse(text) as Record<string, any>) : {} }; // eslint-disable-line @typescript-eslint/no-explicit-any
  }

  it('links, imports, applies webhooks, relinks and unlinks; no secret ever leaves the process', async () => {
    const partner = await call('POST', '/v1/admin/partners', TEST_ADMIN_TOKEN, {
      name: 'Brand partner',
    });
    const key = partner.body.apiKey as string;
    const brand = await call('POST', '/v1/brands', key, { name: 'Cool' });
    const create = () =>
      call('POST', `/v1/brands/${brand.body.id}/store-connections`, key, {
        provider: 'shopify',
        shop: fake.shop,
        returnUrl: `${p.baseUrl}/after-link`,
      });
    const created = await create();
    expect(created.status).toBe(201);
    const connId = created.body.id as string;

    const install = async (authorizeUrl: string) => {
      const consent = await fetch(authorizeUrl, { redirect: 'manual' });
      const done = await fetch(consent.headers.get('location')!, { redirect: 'manual' });
      bodies.push(await done.text());
      return new URL(done.headers.get('location')!);
    };
    const back = await install(created.body.authorizeUrl);
    expect(back.searchParams.get('status')).toBe('linked');

    const imported = await waitFor(
      async () => {
        const c = await call('GET', `/v1/store-connections/${connId}`, key);
        return c.body.sync?.lastSyncedAt ? c.body : null;
      },
      { what: 'import', timeoutMs: 30_000 },
    );
    expect(imported.sync).toMatchObject({ imported: 600, total: 600, state: 'idle' });

    // A webhook through the real process, and a forged one.
    const [first] = fake.products.values();
    const changed = fake.updateProduct(first.id, { title: 'Via webhook' });
    const hook = `${p.baseUrl}/webhooks/shopify`;
    expect((await fake.sendWebhook(hook, 'products/update', changed)).status).toBe(200);
    expect(
      (await fake.sendWebhook(hook, 'products/update', changed, { secret: 'nope' })).status,
    ).toBe(401);
    await waitFor(
      async () => {
        const r = await call('GET', `/v1/brands/${brand.body.id}/products?q=Via%20webhook`, key);
        return r.body.data?.length === 1;
      },
      { what: 'webhook applied' },
    );

    // The store revokes the token: 401 → needs_relink; the brand relinks (new token).
    fake.revokeAllTokens();
    expect((await call('POST', `/v1/store-connections/${connId}/sync`, key)).status).toBe(202);
    await waitFor(
      async () =>
        (await call('GET', `/v1/store-connections/${connId}`, key)).body.status === 'needs_relink',
      {
        what: 'needs_relink',
      },
    );
    const relink = await create();
    expect(relink.status).toBe(201);
    expect(relink.body.id).toBe(connId);
    expect((await install(relink.body.authorizeUrl)).searchParams.get('status')).toBe('linked');
    expect((await call('POST', `/v1/store-connections/${connId}/sync`, key)).status).toBe(202);

    // Unlink: webhooks removed at the store, token forgotten.
    await new Promise((r) => setTimeout(r, 500));
    expect((await call('DELETE', `/v1/store-connections/${connId}`, key)).status).toBe(204);
    expect(fake.webhooks.size).toBe(0);
    expect((await call('GET', `/v1/store-connections/${connId}`, key)).body.status).toBe('revoked');

    await new Promise((r) => setTimeout(r, 500));
    const secrets = [SHOPIFY_SECRET, ...fake.issuedTokens];
    // Two installs, each an expiring access token and its refresh token.
    expect(fake.issuedTokens.length).toBe(4);

    const logs = p.output();
    expect(logs).toContain('/webhooks/shopify');
    for (const s of secrets) {
      expect(logs).not.toContain(s);
      for (const b of bodies) expect(b).not.toContain(s);
    }

    // Job payloads (and everything else under our prefix) in Redis.
    const redis = new Redis(REDIS_URL);
    try {
      const keys = await redis.keys(`${env.QUEUE_PREFIX}:*`);
      expect(keys.length).toBeGreaterThan(0);
      let dump = '';
      for (const k of keys) {
        const type = await redis.type(k);
        if (type === 'hash') dump += JSON.stringify(await redis.hgetall(k));
        else if (type === 'string') dump += await redis.get(k);
        else if (type === 'list') dump += (await redis.lrange(k, 0, -1)).join('\n');
        else if (type === 'zset') dump += (await redis.zrange(k, 0, -1)).join('\n');
        else if (type === 'stream') dump += JSON.stringify(await redis.xrange(k, '-', '+'));
      }
      expect(dump).toContain('storeConnectionId');
      for (const s of secrets) expect(dump).not.toContain(s);
    } finally {
      redis.disconnect();
    }

    // Stored errors and events.
    const pg = new Client({ connectionString: env.DATABASE_URL });
    await pg.connect();
    try {
      const rows = await pg.query(
        `SELECT (SELECT json_agg(c) FROM store_connections c)::text AS c,
                (SELECT json_agg(o) FROM outbox_events o)::text AS o,
                (SELECT json_agg(i.last_error) FROM inbound_events i)::text AS i`,
      );
      const stored = JSON.stringify(rows.rows[0]);
      for (const s of secrets) expect(stored).not.toContain(s);
    } finally {
      await pg.end();
    }
  });
});
