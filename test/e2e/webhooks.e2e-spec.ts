import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Client } from 'pg';
import { CastbridgeProcess, ROOT, spawnCastbridge, waitFor } from '../support/processes';
import { dropDatabase, flushQueuePrefix, TEST_ADMIN_TOKEN, testEnv } from '../support/test-env';
import { WebhookReceiver } from '../support/webhook-receiver';

/**
 * The built service as a process (api + worker): an event goes out as a verified webhook,
 * retried once, through a secret rotation, and no secret ever reaches the process output.
 */
describe('outbound webhooks from the service process', () => {
  let p: CastbridgeProcess;
  let env: Record<string, string>;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    if (!existsSync(resolve(ROOT, 'dist/src/main.js'))) {
      throw new Error('dist/ is missing: the test command builds first (npm test)');
    }
    env = testEnv({ LOG_LEVEL: 'debug', ROLES: 'api,worker', WEBHOOK_RETRY_BASE: '100ms' });
    p = await spawnCastbridge(env);
    receiver = await WebhookReceiver.start();
    await waitFor(async () => (await fetch(`${p.baseUrl}/health/ready`)).status === 200, {
      what: `ready (output: ${p.output().slice(-2000)})`,
    });
  });
  afterAll(async () => {
    await receiver?.close();
    await p?.stop();
    await dropDatabase(env.DATABASE_URL);
    await flushQueuePrefix(env.QUEUE_PREFIX);
  });

  it('delivers, retries and rotates without writing a secret to its logs', async () => {
    const call = async (method: string, path: string, auth: string, body?: unknown) => {
      const res = await fetch(`${p.baseUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${auth}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const partner = await call('POST', '/v1/admin/partners', TEST_ADMIN_TOKEN, { name: 'W' });
    const apiKey = String(partner.body.apiKey);
    const created = await call('POST', '/v1/webhook-endpoints', apiKey, {
      url: receiver.url,
      events: ['*'],
    });
    expect(created.status).toBe(201);
    const first = String(created.body.secret);
    const rotated = await call(
      'POST',
      `/v1/webhook-endpoints/${String(created.body.id)}/secret`,
      apiKey,
    );
    expect(rotated.status).toBe(201);
    const second = String(rotated.body.secret);
    // A bad request that carries a secret-looking value: refused without echoing it.
    const bad = await call('POST', '/v1/webhook-endpoints', apiKey, { url: first, events: ['*'] });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).not.toContain(first);

    receiver.trust(second, first).failNext(1, 500);
    const pg = new Client({ connectionString: env.DATABASE_URL });
    await pg.connect();
    try {
      await pg.query(
        `INSERT INTO outbox_events (partner_id, type, data) VALUES ($1, 'order.placed', '{"orderId":"o1"}')`,
        [String(partner.body.id)],
      );
    } finally {
      await pg.end();
    }
    await receiver.waitFor((r) => r.accepted.length === 1, { timeoutMs: 20_000 });
    expect(receiver.received).toHaveLength(2);
    expect(receiver.accepted[0].verifiedWith).toEqual([0, 1]);
    expect(receiver.rejected).toHaveLength(0);

    await new Promise((r) => setTimeout(r, 300));
    const logs = p.output();
    expect(logs).toContain('webhook delivery attempt'); // attempts are logged…
    for (const secret of [first, second]) {
      expect(logs).not.toContain(secret);
      expect(logs).not.toContain(secret.slice('whsec_'.length));
    }
    for (const sig of receiver.received.flatMap((r) => r.signature.split(' '))) {
      expect(logs).not.toContain(sig.slice(3));
    }
    expect(logs).not.toContain(apiKey); // …without a secret or a signature
  });
});
