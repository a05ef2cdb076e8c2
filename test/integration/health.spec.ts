import { startTestApp, TestApp } from '../support/test-app';

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

  it('answers 503 naming the failing check, and stays live', async () => {
    const res = await noRedis.http().get('/health/ready').expect(503);
    expect(res.body.status).toBe('error');
    expect(res.body.checks.postgres).toEqual({ status: 'up' });
    expect(res.body.checks.redis.status).toBe('down');
    await noRedis.http().get('/health/live').expect(200);
  });

  it('checks ffmpeg in roles that run it', async () => {
    const worker = await startTestApp({ ROLES: 'worker', FFMPEG_PATH: '/nonexistent/ffmpeg' });
    try {
      const res = await worker.http().get('/health/ready').expect(503);
      expect(res.body.checks.ffmpeg.status).toBe('down');
    } finally {
      await worker.close();
    }
  });
});
