import { startTestApp, TestApp } from '../support/test-app';
import { TcpProxy } from '../support/tcp-proxy';
import { uniqueName } from '../support/test-env';

/** What an unauthenticated probe must never show: addresses, ports, driver messages. */
function expectNoInternals(body: unknown, ...extra: string[]): void {
  const text = JSON.stringify(body);
  for (const s of [
    '127.0.0.1',
    'localhost',
    'ECONNREFUSED',
    'connect',
    'postgres://',
    'redis://',
    ...extra,
  ]) {
    expect(text).not.toContain(s);
  }
}

describe('readiness on real Postgres/Redis', () => {
  let ok: TestApp;
  let noRedis: TestApp;

  beforeAll(async () => {
    ok = await startTestApp({ ROLES: 'api' });
    // Nothing listens on this port: Redis is "down" for this instance.
    noRedis = await startTestApp({ ROLES: 'api', REDIS_URL: 'redis://127.0.0.1:1' });
  });
  afterAll(async () => {
    await ok.close();
    await noRedis.close();
  });

  it('is ready when Postgres and Redis answer', async () => {
    const res = await ok.http().get('/health/ready').expect(200);
    expect(res.body).toEqual({
      status: 'ok',
      checks: { postgres: { status: 'up' }, redis: { status: 'up' } },
    });
  });

  it('answers 503 naming the failing check, without its address or driver message, and stays live', async () => {
    const res = await noRedis.http().get('/health/ready').expect(503);
    expect(res.body).toEqual({
      status: 'error',
      checks: { postgres: { status: 'up' }, redis: { status: 'down', error: 'unavailable' } },
    });
    expectNoInternals(res.body, ':1');
    await noRedis.http().get('/health/live').expect(200);
  });

  it('names Postgres when its port is closed, without host, port or driver message', async () => {
    const proxy = await new TcpProxy('127.0.0.1', 5432).start();
    const db = uniqueName('cbt');
    const t = await startTestApp({
      ROLES: 'api',
      DATABASE_URL: `postgres://postgres@127.0.0.1:${proxy.port}/${db}`,
    });
    try {
      await t.http().get('/health/ready').expect(200);
      await proxy.close(); // every connection dropped, the port closed
      const res = await t.http().get('/health/ready').expect(503);
      expect(res.body.status).toBe('error');
      expect(res.body.checks.redis).toEqual({ status: 'up' });
      expect(res.body.checks.postgres).toEqual({
        status: 'down',
        error: expect.stringMatching(/^(unavailable|timeout)$/),
      });
      expectNoInternals(res.body, String(proxy.port), db);
    } finally {
      await t.close();
    }
  });

  it('checks ffmpeg in roles that run it, without showing its path', async () => {
    const worker = await startTestApp({ ROLES: 'worker', FFMPEG_PATH: '/nonexistent/ffmpeg' });
    try {
      const res = await worker.http().get('/health/ready').expect(503);
      expect(res.body.checks.ffmpeg).toEqual({ status: 'down', error: 'unavailable' });
      expectNoInternals(res.body, '/nonexistent', 'ENOENT');
    } finally {
      await worker.close();
    }
  });
});
