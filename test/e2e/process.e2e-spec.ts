import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { CastbridgeProcess, ROOT, spawnCastbridge, waitFor } from '../support/processes';
import { dropDatabase, flushQueuePrefix, TEST_ADMIN_TOKEN, testEnv } from '../support/test-env';

/** The built service as `npm start` runs it: a separate OS process, real HTTP. */
describe('the service as a process', () => {
  beforeAll(() => {
    if (!existsSync(resolve(ROOT, 'dist/src/main.js'))) {
      throw new Error('dist/ is missing: the test command builds first (npm test)');
    }
  });

  const started: Array<{ p: CastbridgeProcess; env: Record<string, string> }> = [];
  async function start(overrides: Record<string, string> = {}) {
    const env = testEnv({ LOG_LEVEL: 'debug', ...overrides });
    const p = await spawnCastbridge(env);
    started.push({ p, env });
    return p;
  }
  afterAll(async () => {
    for (const { p, env } of started) {
      await p.stop();
      await dropDatabase(env.DATABASE_URL);
      await flushQueuePrefix(env.QUEUE_PREFIX);
    }
  });

  it('starts, creates its database, becomes ready, and never logs a secret', async () => {
    const p = await start();
    await waitFor(async () => (await fetch(`${p.baseUrl}/health/ready`)).status === 200, {
      what: `ready (output: ${p.output().slice(-2000)})`,
    });
    const json = (r: Response) => r.json() as Promise<Record<string, unknown>>;
    const post = (path: string, auth: string, body: unknown) =>
      fetch(`${p.baseUrl}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${auth}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const partner = await json(
      await post('/v1/admin/partners', TEST_ADMIN_TOKEN, { name: 'Logs' }),
    );
    const apiKey = String(partner.apiKey);
    const channel = await json(await post('/v1/channels', apiKey, { name: 'c' }));
    const streamKey = String((channel.ingest as { streamKey: string }).streamKey);
    const rotated = await json(
      await post(`/v1/channels/${String(channel.id)}/stream-key`, apiKey, {}),
    );
    const tooLong = await post('/v1/channels', apiKey, { name: 'x'.repeat(500) }); // a logged 400
    // A forged key of the right shape: its lookup part looks up nothing, and it is refused.
    const forgedSecret = 'Fg0rGeD' + 'A'.repeat(36);
    const forged = `cbk_0123456789abcdef_${forgedSecret}`;
    const refused = await post('/v1/channels', forged, { name: 'x' }); // a logged 401
    expect([tooLong.status, refused.status]).toEqual([400, 401]);
    const ids = [String((await json(tooLong)).requestId), String((await json(refused)).requestId)];

    // Both requests are logged, with their request id and status…
    const logged = (id: string) =>
      p
        .output()
        .split('\n')
        .find((l) => l.includes(`"reqId":"${id}"`) && l.includes('"path":"/v1/channels"'));
    await waitFor(async () => ids.every(logged), { what: 'the 400 and the 401 logged' });
    expect(logged(ids[0])).toContain('"statusCode":400');
    expect(logged(ids[1])).toContain('"statusCode":401');
    // …and no secret is, the forged key sent in the 401 request included.
    const logs = p.output();
    const secrets = [
      apiKey,
      apiKey.slice('cbk_0123456789abcdef_'.length), // its secret part
      streamKey,
      String(rotated.streamKey),
      TEST_ADMIN_TOKEN,
      forged,
      forgedSecret,
    ];
    expect(secrets.filter((secret) => logs.includes(secret))).toEqual([]);
  });

  it('refuses to start on bad configuration, naming every bad variable at once', async () => {
    const p = await start({ PORT: '3000', RTMP_PORT: 'x', ROLES: 'api,chef', LOG_LEVEL: 'chatty' });
    const code = await p.exited;
    expect(code).toBe(78);
    for (const name of ['RTMP_PORT', 'ROLES', 'LOG_LEVEL']) expect(p.output()).toContain(name);
    expect(p.output()).toContain('Invalid configuration');
  });

  it('refuses to start in production on the development key and a weak admin token, echoing neither', async () => {
    const weak = await start({
      NODE_ENV: 'production',
      ROLES: 'api',
      OPS_USER: 'ops',
      OPS_PASSWORD: 'secret',
    });
    expect(await weak.exited).toBe(78);
    const out = weak.output();
    expect(out).toContain('Invalid configuration');
    for (const name of ['ENCRYPTION_KEYS', 'ADMIN_TOKEN', 'OPS_PASSWORD'])
      expect(out).toContain(name);
    expect(out).not.toContain(TEST_ADMIN_TOKEN);

    const strong = await start({
      NODE_ENV: 'production',
      ROLES: 'api',
      ENCRYPTION_KEYS: `prod:${Buffer.alloc(32, 7).toString('base64')}`,
      ADMIN_TOKEN: 'Qm4v-Z8rW2tK9pL6xN3bH7cJ',
    });
    await waitFor(async () => (await fetch(`${strong.baseUrl}/health/ready`)).status === 200, {
      what: `production ready (output: ${strong.output().slice(-2000)})`,
    });
  });

  it('runs only the routes of its roles: a worker answers probes, not the partner API', async () => {
    const p = await start({ ROLES: 'worker' });
    await waitFor(async () => (await fetch(`${p.baseUrl}/health/ready`)).status === 200, {
      what: 'worker ready',
    });
    expect((await fetch(`${p.baseUrl}/v1/channels`)).status).toBe(404);
    expect((await fetch(`${p.baseUrl}/docs-json`)).status).toBe(404);
  });

  it('exits cleanly on SIGTERM', async () => {
    const p = await start({ ROLES: 'api,worker' });
    await waitFor(async () => (await fetch(`${p.baseUrl}/health/live`)).ok, { what: 'live' });
    const t0 = Date.now();
    expect(await p.stop('SIGTERM')).toBe(0);
    expect(Date.now() - t0).toBeLessThan(30_000);
  });
});
