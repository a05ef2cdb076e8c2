import { ChildProcess, spawn } from 'node:child_process';
import {
  maxVideoGap,
  publishTestPattern,
  Publisher,
  RtmpSink,
  startNginxSink,
  stopAllMedia,
} from '../support/media';
import { newPartnerClient, PartnerClient, waitReady } from '../support/partner-client';
import {
  CastbridgeProcess,
  freePort,
  portOpen,
  spawnCastbridge,
  stopChild,
  waitFor,
} from '../support/processes';
import { dropDatabase, flushQueuePrefix, PG_BASE, testEnv } from '../support/test-env';
import { TcpProxy } from '../support/tcp-proxy';
import { ReceivedWebhook, WebhookReceiver } from '../support/webhook-receiver';

jest.setTimeout(180_000);

/** A Redis of this test's own, so that it can really be restarted. */
async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  await waitFor(() => portOpen(port), { what: `redis on ${port}` });
  return child;
}

/**
 * Redis restarted (and emptied: no AOF here) while a stream is live and events are being
 * produced: relays keep streaming (media never goes through Redis), the queues resume,
 * and every event committed meanwhile is delivered once Redis is back.
 */
describe('recovery: Redis restarted while live', () => {
  let redisPort = 0;
  let redis: ChildProcess;
  let env: Record<string, string>;
  let app: CastbridgeProcess;
  let apiKey = '';
  let sink: RtmpSink;
  let publisher: Publisher | null = null;
  let receiver: WebhookReceiver;

  let call: PartnerClient['json'];

  /** An event as the partner sees it: type, destination, previous → new state. */
  const describeEvent = (w: ReceivedWebhook) => {
    const d = w.payload?.data ?? {};
    return [w.payload?.type, d.destinationId ?? d.sessionId, d.previousState, d.state]
      .map((x) => (x === undefined ? '' : String(x)))
      .join(' ');
  };
  /** Events delivered: verified by the receiver (official library) and answered 2xx. */
  const delivered = () => receiver.accepted.map(describeEvent).sort();

  async function relayState(sessionId: string, destinationId: string): Promise<string | undefined> {
    const s = await call('GET', `/v1/sessions/${sessionId}`);
    return (s.destinations as Array<{ destinationId: string; state: string }>).find(
      (d) => d.destinationId === destinationId,
    )?.state;
  }

  beforeAll(async () => {
    redisPort = await freePort();
    redis = await startRedis(redisPort);
    const rtmpPort = await freePort();
    env = testEnv({ RTMP_PORT: String(rtmpPort), REDIS_URL: `redis://127.0.0.1:${redisPort}` });
    app = await spawnCastbridge(env);
    await waitReady(app.baseUrl);
    const partner = await newPartnerClient(app.baseUrl, 'Recovery');
    call = partner.json;
    apiKey = partner.apiKey;
    sink = await startNginxSink();
    receiver = await WebhookReceiver.start();
    env.RTMP_PORT = String(rtmpPort);
  });

  afterAll(async () => {
    await publisher?.stop();
    await app.stop();
    await receiver.close();
    await sink.stop();
    await stopAllMedia();
    await stopChild(redis, 'SIGKILL');
    await dropDatabase(env.DATABASE_URL);
  });

  it('keeps streaming through the restart, resumes queues, delivers every event', async () => {
    const endpoint = await call('POST', '/v1/webhook-endpoints', {
      url: receiver.url,
      events: ['destination.state_changed', 'session.started'],
    });
    receiver.trust(String(endpoint.secret));
    const channel = await call('POST', '/v1/channels', { name: 'Recovery' });
    const channelId = String(channel.id);
    const a = await call('POST', `/v1/channels/${channelId}/destinations`, {
      name: 'A',
      kind: 'social_platform',
      url: sink.url,
      streamKey: 'rec_a',
    });
    const b = await call('POST', `/v1/channels/${channelId}/destinations`, {
      name: 'B',
      kind: 'social_platform',
      url: sink.url,
      streamKey: 'rec_b',
    });
    const streamKey = (channel.ingest as { streamKey: string }).streamKey;
    publisher = publishTestPattern(`rtmp://127.0.0.1:${env.RTMP_PORT}/live/${streamKey}`);
    const sessionId = await waitFor(
      async () => {
        const c = await call('GET', `/v1/channels/${channelId}`);
        return c.currentSessionId ? String(c.currentSessionId) : null;
      },
      { what: 'session' },
    );
    for (const d of [a, b]) {
      await waitFor(async () => (await relayState(sessionId, String(d.id))) === 'live', {
        what: 'live',
      });
    }
    const [idA, idB] = [String(a.id), String(b.id)];
    const ev = (destinationId: string, from: string | null, to: string) =>
      `destination.state_changed ${destinationId} ${from ?? 'null'} ${to}`;
    // Before the outage: the session started, A and B started and went live; all delivered.
    const before = [
      `session.started ${sessionId}  `,
      ev(idA, null, 'starting'),
      ev(idA, 'starting', 'live'),
      ev(idB, null, 'starting'),
      ev(idB, 'starting', 'live'),
    ];
    await receiver.waitFor(() => delivered().length >= before.length, {
      what: 'the events from before the outage',
    });
    expect(delivered()).toEqual([...before].sort());

    // Watch A for the whole outage; restart Redis (empty: no AOF) in the middle.
    const watching = maxVideoGap(`${sink.url}/rec_a`, 10);
    await new Promise((r) => setTimeout(r, 1500));
    await stopChild(redis, 'SIGKILL');
    // While Redis is down: a committed state change (its event waits in the outbox).
    const patched = await fetch(
      `${app.baseUrl}/v1/channels/${channelId}/destinations/${String(b.id)}`,
      {
        method: 'PATCH',
        headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ enabled: false }),
      },
    );
    expect(patched.status).toBe(200);
    await new Promise((r) => setTimeout(r, 2000));
    redis = await startRedis(redisPort);

    const gap = await watching;
    expect(gap.frames).toBeGreaterThan(200); // ~300 expected in 10 s at 30 fps
    expect(gap.maxGap).toBeLessThan(1);
    expect(await relayState(sessionId, String(a.id))).toBe('live');

    // Queues resume: a destination added now starts (it needs a relay job).
    const c = await call('POST', `/v1/channels/${channelId}/destinations`, {
      name: 'C',
      kind: 'social_platform',
      url: sink.url,
      streamKey: 'rec_c',
    });
    await waitFor(async () => (await relayState(sessionId, String(c.id))) === 'live', {
      what: 'C live after the restart',
      timeoutMs: 20_000,
    });

    // Every event committed, before, during and after the outage, is delivered once.
    const during = [ev(idB, 'live', 'stopped')];
    const idC = String(c.id);
    const after = [ev(idC, null, 'starting'), ev(idC, 'starting', 'live')];
    const expected = [...before, ...during, ...after].sort();
    const deliveries = async (status: string) =>
      (
        (
          await call(
            'GET',
            `/v1/webhook-endpoints/${String(endpoint.id)}/deliveries?status=${status}`,
          )
        ).data as unknown[]
      ).length;
    // Done when nothing is left to deliver: then what arrived is all that will.
    await waitFor(
      async () =>
        delivered().length >= expected.length &&
        (await deliveries('pending')) === 0 &&
        (await deliveries('delivered')) === expected.length,
      { what: 'events from before, during and after the outage delivered', timeoutMs: 30_000 },
    );
    expect(delivered()).toEqual(expected);
    expect(await deliveries('failed')).toBe(0);
    expect(receiver.rejected).toEqual([]);
    const accepted = receiver.accepted;
    expect(new Set(accepted.map((w) => w.webhookId)).size).toBe(accepted.length);
    expect(new Set(accepted.map((w) => w.payload?.id)).size).toBe(accepted.length);
  });
});

/**
 * Postgres unreachable for a few seconds while live (every connection dropped, new ones
 * refused, through a TCP proxy): the media keeps flowing, the session and relays are
 * still live afterwards, and the service works again without a restart.
 */
describe('recovery: Postgres unreachable while live', () => {
  let proxy: TcpProxy;
  let env: Record<string, string>;
  let app: CastbridgeProcess;
  let apiKey = '';
  let sink: RtmpSink;
  let publisher: Publisher | null = null;

  let call: PartnerClient['json'];

  beforeAll(async () => {
    const pg = new URL(PG_BASE);
    proxy = await new TcpProxy(pg.hostname, Number(pg.port || 5432)).start();
    const rtmpPort = await freePort();
    env = testEnv({ RTMP_PORT: String(rtmpPort) });
    const direct = env.DATABASE_URL;
    const viaProxy = new URL(direct);
    viaProxy.port = String(proxy.port);
    app = await spawnCastbridge({ ...env, DATABASE_URL: viaProxy.toString() });
    await waitReady(app.baseUrl);
    const partner = await newPartnerClient(app.baseUrl, 'PG outage');
    call = partner.json;
    apiKey = partner.apiKey;
    sink = await startNginxSink();
  });

  afterAll(async () => {
    await publisher?.stop();
    proxy.restore();
    await app.stop();
    await sink.stop();
    await stopAllMedia();
    await proxy.close();
    await dropDatabase(env.DATABASE_URL);
    await flushQueuePrefix(env.QUEUE_PREFIX);
  });

  it('keeps streaming through the outage and works again afterwards', async () => {
    const channel = await call('POST', '/v1/channels', { name: 'PG' });
    const channelId = String(channel.id);
    const a = await call('POST', `/v1/channels/${channelId}/destinations`, {
      name: 'A',
      kind: 'social_platform',
      url: sink.url,
      streamKey: 'pg_a',
    });
    const streamKey = (channel.ingest as { streamKey: string }).streamKey;
    publisher = publishTestPattern(`rtmp://127.0.0.1:${env.RTMP_PORT}/live/${streamKey}`);
    const sessionId = await waitFor(
      async () => {
        const c = await call('GET', `/v1/channels/${channelId}`);
        return c.currentSessionId ? String(c.currentSessionId) : null;
      },
      { what: 'session' },
    );
    const relayState = async (destinationId: string) =>
      (
        (await call('GET', `/v1/sessions/${sessionId}`)).destinations as Array<{
          destinationId: string;
          state: string;
        }>
      ).find((d) => d.destinationId === destinationId)?.state;
    await waitFor(async () => (await relayState(String(a.id))) === 'live', { what: 'live' });

    const watching = maxVideoGap(`${sink.url}/pg_a`, 10);
    await new Promise((r) => setTimeout(r, 1500));
    proxy.cut();
    // While Postgres is away the API says so (5xx), it does not hang or lie.
    const during = await fetch(`${app.baseUrl}/v1/sessions/${sessionId}`, {
      headers: { authorization: `Bearer ${apiKey}` },
    });
    expect(during.status).toBeGreaterThanOrEqual(500);
    await new Promise((r) => setTimeout(r, 5000));
    proxy.restore();

    const gap = await watching;
    expect(gap.frames).toBeGreaterThan(200);
    expect(gap.maxGap).toBeLessThan(1);
    await waitFor(async () => (await relayState(String(a.id))) === 'live', {
      what: 'still live after the outage',
    });
    expect((await call('GET', `/v1/sessions/${sessionId}`)).status).toBe('live');

    // Works again: a destination added now starts.
    const b = await call('POST', `/v1/channels/${channelId}/destinations`, {
      name: 'B',
      kind: 'social_platform',
      url: sink.url,
      streamKey: 'pg_b',
    });
    await waitFor(async () => (await relayState(String(b.id))) === 'live', {
      what: 'B live after the outage',
      timeoutMs: 20_000,
    });
  });
});
