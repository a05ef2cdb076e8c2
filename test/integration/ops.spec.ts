import { getQueueToken } from '@nestjs/bullmq';
import { Queue } from 'bullmq';
import { QUEUE_LABELS, QueueName } from '../../src/queues/queue-registry';
import { parsePrometheusText, samplesOf } from '../support/prometheus-text';
import { startTestApp, TestApp } from '../support/test-app';

const OPS = { OPS_USER: 'ops', OPS_PASSWORD: 'correct horse battery staple' };
const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('ops: metrics and the queue dashboard (api role)', () => {
  let t: TestApp;
  let noOps: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ ROLES: 'api', ...OPS });
    noOps = await startTestApp({ ROLES: 'api' });
  });
  afterAll(async () => {
    await t.close();
    await noOps.close();
  });

  it('serves Prometheus text with the HTTP histogram, queue depth and domain metrics', async () => {
    await t.http().get('/health/live').expect(200);
    await t.http().get('/v1/channels/abc').expect(401);
    await t.http().get('/no/such/route/123').expect(404);
    const queue = t.app.get<Queue>(getQueueToken(QueueName.Maintenance));
    await queue.add('maintenance.prune-outbox', { olderThanDays: 30 }, { delay: 60_000 });

    const res = await t.http().get('/metrics').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const e = parsePrometheusText(res.text);

    expect(e.types.castbridge_http_request_duration_seconds).toBe('histogram');
    // Route templates, not raw paths; unknown paths share one series.
    expect(
      samplesOf(e, 'castbridge_http_request_duration_seconds_count', {
        method: 'GET',
        route: '/health/live',
        status: '200',
      })[0]?.value,
    ).toBeGreaterThanOrEqual(1);
    expect(
      samplesOf(e, 'castbridge_http_request_duration_seconds_count', {
        route: '/v1/channels/:id',
        status: '401',
      }),
    ).toHaveLength(1);
    expect(
      samplesOf(e, 'castbridge_http_request_duration_seconds_count', { route: 'unmatched' }),
    ).toHaveLength(1);
    expect(e.samples.some((s) => s.labels.route?.includes('123'))).toBe(false);

    expect(e.types.castbridge_queue_jobs).toBe('gauge');
    for (const q of Object.values(QueueName)) {
      expect(samplesOf(e, 'castbridge_queue_jobs', { queue: q, state: 'waiting' })).toHaveLength(1);
    }
    expect(
      samplesOf(e, 'castbridge_queue_jobs', { queue: QueueName.Maintenance, state: 'delayed' })[0]
        .value,
    ).toBeGreaterThanOrEqual(1);

    for (const name of [
      'castbridge_relays',
      'castbridge_ffmpeg_restarts_total',
      'castbridge_ingest_sessions_live',
      'castbridge_job_duration_seconds',
      'castbridge_webhook_deliveries_total',
      'castbridge_inbound_webhooks_total',
      'process_cpu_seconds_total',
      'nodejs_heap_size_used_bytes',
    ]) {
      expect(e.types[name]).toBeDefined();
    }
    expect(samplesOf(e, 'castbridge_relays', { state: 'live' })[0].value).toBe(0);
  });

  it('keeps the dashboard behind ops credentials', async () => {
    const none = await t.http().get('/admin/queues').expect(401);
    expect(none.headers['www-authenticate']).toMatch(/^Basic realm="/);
    expect(none.body.error).toBe('UNAUTHORIZED');
    await t.http().get('/admin/queues').set('authorization', basic('ops', 'wrong')).expect(401);
    await t.http().get('/admin/queues/api/queues').expect(401);
    await t
      .http()
      .get('/admin/queues')
      .set('authorization', basic('ops', OPS.OPS_PASSWORD))
      .expect(200)
      .expect('content-type', /html/);
  });

  it('lists every registered queue under its readable name', async () => {
    const res = await t
      .http()
      .get('/admin/queues/api/queues')
      .set('authorization', basic('ops', OPS.OPS_PASSWORD))
      .expect(200);
    const queues = res.body.queues as Array<{ name: string; displayName: string }>;
    expect(queues.map((q) => q.name).sort()).toEqual(Object.values(QueueName).sort());
    for (const q of queues) expect(q.displayName).toBe(QUEUE_LABELS[q.name as QueueName]);

    // Dashboard requests are measured under the dashboard's own prefix.
    const e = parsePrometheusText((await t.http().get('/metrics').expect(200)).text);
    const routes = samplesOf(e, 'castbridge_http_request_duration_seconds_count').map(
      (x) => x.labels.route,
    );
    expect(routes).toContain('/admin/queues/api/queues');
    for (const r of routes) expect(r === 'unmatched' || r.startsWith('/')).toBe(true);
  });

  it('has no dashboard when OPS_USER / OPS_PASSWORD are unset', async () => {
    await noOps.http().get('/admin/queues').expect(404);
    await noOps.http().get('/admin/queues').set('authorization', basic('ops', 'x')).expect(404);
  });

  it('has no dashboard outside the api role', async () => {
    const worker = await startTestApp({ ROLES: 'worker', ...OPS });
    try {
      await worker
        .http()
        .get('/admin/queues')
        .set('authorization', basic('ops', OPS.OPS_PASSWORD))
        .expect(404);
      await worker.http().get('/metrics').expect(200);
    } finally {
      await worker.close();
    }
  });
});
