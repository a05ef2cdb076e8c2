import { createHash } from 'node:crypto';
import Redis from 'ioredis';
import { PartnersService } from '../../src/partners/partners.service';
import { requestFrom } from '../support/http-from';
import { TcpProxy } from '../support/tcp-proxy';
import { startTestApp, TestApp } from '../support/test-app';
import { REDIS_URL } from '../support/test-env';

const LIMIT = 5;
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/**
 * RATE_LIMIT_PER_MINUTE per API key and per address, counted in the real Redis. Each
 * test is one or more clients on loopback addresses of its own (127.0.0.N), so their
 * budgets do not mix.
 */
describe('rate limits (real Redis)', () => {
  let t: TestApp;
  let redis: Redis;
  const keys: string[] = [];

  beforeAll(async () => {
    t = await startTestApp({ ROLES: 'api', RATE_LIMIT_PER_MINUTE: String(LIMIT) });
    redis = new Redis(REDIS_URL);
    const partners = t.app.get(PartnersService);
    for (const name of ['a', 'b', 'c', 'd']) keys.push((await partners.create(name)).apiKey);
  });
  afterAll(async () => {
    redis.disconnect();
    await t.close();
  });

  const get = (from: string, path: string, apiKey?: string, app = t) =>
    requestFrom(app.server, from, path, {
      headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {},
    });

  function expectRateLimited(res: Awaited<ReturnType<typeof get>>, per: 'apiKey' | 'address') {
    expect(res.status).toBe(429);
    expect(res.body).toMatchObject({
      statusCode: 429,
      error: 'RATE_LIMITED',
      message: expect.stringContaining(`more than ${LIMIT} requests a minute`),
      details: [{ field: per, message: expect.any(String) }],
      requestId: res.headers['x-request-id'],
    });
    const retryAfter = Number(res.headers['retry-after']);
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
  }

  it('limits each API key, whatever address it comes from', async () => {
    for (let i = 0; i < LIMIT; i++) {
      expect((await get(`127.0.1.${i + 1}`, '/v1/channels', keys[0])).status).toBe(200);
    }
    expectRateLimited(await get('127.0.1.100', '/v1/channels', keys[0]), 'apiKey');
    // Every route counts in the same budget; another key does not.
    expectRateLimited(await get('127.0.1.101', '/v1/partner', keys[0]), 'apiKey');
    expect((await get('127.0.1.102', '/v1/channels', keys[1])).status).toBe(200);
  });

  it('limits each address, whatever key (or none, or a wrong one) it presents', async () => {
    const from = '127.0.2.1';
    expect((await get(from, '/v1/channels', keys[2])).status).toBe(200);
    expect((await get(from, '/v1/channels')).status).toBe(401);
    expect((await get(from, '/v1/channels', 'cbk_0000000000000000_wrong')).status).toBe(401);
    expect((await get(from, '/v1/channels', keys[3])).status).toBe(200);
    expect((await get(from, '/v1/partner', keys[3])).status).toBe(200);
    expectRateLimited(await get(from, '/v1/channels', keys[3]), 'address');
    expect((await get('127.0.2.2', '/v1/channels', keys[3])).status).toBe(200);
  });

  it('limits the OAuth callbacks per address', async () => {
    const from = '127.0.3.1';
    for (let i = 0; i < LIMIT; i++) {
      expect((await get(from, '/oauth/shopify/callback?state=x')).status).not.toBe(429);
    }
    expectRateLimited(await get(from, '/oauth/shopify/callback?state=x'), 'address');
  });

  it('leaves probes, /metrics and inbound store webhooks unlimited', async () => {
    const from = '127.0.4.1';
    for (let i = 0; i < LIMIT * 3; i++) {
      expect((await get(from, '/health/live')).status).toBe(200);
      expect((await get(from, '/health/ready')).status).toBe(200);
      expect((await get(from, '/metrics')).status).toBe(200);
      const webhook = await requestFrom(t.server, from, '/webhooks/shopify', {
        method: 'POST',
        body: { id: 1 },
      });
      expect(webhook.status).not.toBe(429);
    }
    // The same address still has its whole API budget.
    const fresh = (await t.app.get(PartnersService).create('fresh')).apiKey;
    for (let i = 0; i < LIMIT; i++) {
      expect((await get(from, '/v1/channels', fresh)).status).toBe(200);
    }
  });

  it('shares one budget between api processes (same Redis and QUEUE_PREFIX)', async () => {
    const second = await startTestApp({
      ROLES: 'api',
      RATE_LIMIT_PER_MINUTE: String(LIMIT),
      DATABASE_URL: t.config.databaseUrl,
      QUEUE_PREFIX: t.config.queuePrefix,
    });
    try {
      const key = (await t.app.get(PartnersService).create('shared')).apiKey;
      const statuses: number[] = [];
      for (let i = 0; i < LIMIT; i++) {
        statuses.push(
          (await get(`127.0.5.${i + 1}`, '/v1/channels', key, i % 2 ? second : t)).status,
        );
      }
      expect(statuses).toEqual(Array(LIMIT).fill(200));
      expectRateLimited(await get('127.0.5.100', '/v1/channels', key, second), 'apiKey');
      expectRateLimited(await get('127.0.5.101', '/v1/channels', key, t), 'apiKey');
    } finally {
      await second.app.close(); // the database is the first app's: it drops it
    }
  });

  it('keeps API keys out of Redis: keys carry a SHA-256 of the key, values only counts', async () => {
    const stored = await redis.keys(`*${t.config.queuePrefix}:rate-limit:*`);
    expect(stored.length).toBeGreaterThan(0);
    const values = await Promise.all(stored.map((k) => redis.get(k)));
    const all = [...stored, ...values.map(String)].join('\n');
    for (const key of keys) {
      expect(all).not.toContain(key);
      expect(all).not.toContain(key.slice(0, 20)); // nor the key's lookup prefix
      expect(all).not.toContain(key.slice(-20));
    }
    expect(all).not.toContain('cbk_');
    expect(all).toContain(`apiKey:${sha256(keys[0])}`);
    for (const v of values) expect(v).toMatch(/^\d+$/);
  });

  it('fails open while Redis does not answer, and counts again once it does', async () => {
    const proxy = await new TcpProxy('127.0.0.1', 6379).start();
    const app = await startTestApp({
      ROLES: 'api',
      RATE_LIMIT_PER_MINUTE: String(LIMIT),
      REDIS_URL: `redis://127.0.0.1:${proxy.port}`,
    });
    try {
      const key = (await app.app.get(PartnersService).create('open')).apiKey;
      proxy.cut();
      for (let i = 0; i < LIMIT + 3; i++) {
        expect((await get(`127.0.6.${i + 1}`, '/v1/channels', key, app)).status).toBe(200);
      }
      proxy.restore();
      let limited = false;
      for (let i = 0; i < 100 && !limited; i++) {
        limited = (await get('127.0.6.100', '/v1/channels', key, app)).status === 429;
        if (!limited) await new Promise((r) => setTimeout(r, 50));
      }
      expect(limited).toBe(true);
    } finally {
      await app.close();
      await proxy.close();
    }
  });
});
