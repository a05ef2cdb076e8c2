import { MediaService } from '../media/media.service';
import type { ModuleRef } from '@nestjs/core';
import type { Request } from 'express';
import { register as globalRegistry, Registry } from 'prom-client';
import { labelValue, MetricsService, routeTemplate } from './metrics.service';

function service(): MetricsService {
  // Queue depth is not scraped in these tests: the registry has no queues to read.
  const moduleRef = {
    get: (token: unknown) =>
      token === MediaService
        ? { ingestCounts: () => ({ connections: 3, pending: 2, publishing: 1, playing: 0 }) }
        : { getJobCounts: async () => ({ waiting: 2 }) },
  } as unknown as ModuleRef;
  return new MetricsService(moduleRef);
}

async function value(m: MetricsService, name: string, labels: Record<string, string> = {}) {
  const metric = m.registry.getSingleMetric(name);
  const data = await metric!.get();
  const match = data.values.find((v) =>
    Object.entries(labels).every(([k, val]) => String(v.labels[k]) === val),
  );
  return match?.value;
}

describe('metric helpers', () => {
  it('uses route templates, never raw paths', () => {
    const req = (r: Partial<Request> & { route?: { path: string } }) => r as Request;
    expect(routeTemplate(req({ route: { path: '/v1/channels/:id' }, baseUrl: '' }))).toBe(
      '/v1/channels/:id',
    );
    expect(routeTemplate(req({ route: { path: '/{*path}' }, originalUrl: '/x/1' }))).toBe(
      'unmatched',
    );
    expect(routeTemplate(req({ originalUrl: '/admin/queues/api/queues?x=1' }))).toBe(
      '/admin/queues/*',
    );
    expect(routeTemplate(req({ originalUrl: '/admin/queuesX' }))).toBe('unmatched');
    expect(routeTemplate(req({ originalUrl: '/v1/channels/123' }))).toBe('unmatched');
  });

  it('keeps label values bounded', () => {
    expect(labelValue('delivered')).toBe('delivered');
    expect(labelValue('shopify')).toBe('shopify');
    expect(labelValue('has space')).toBe('other');
    expect(labelValue('x'.repeat(65))).toBe('other');
  });

  it('counts relays by state through transitions and full resyncs', async () => {
    const m = service();
    m.relayStateChanged(null, 'starting');
    m.relayStateChanged(null, 'starting');
    m.relayStateChanged('starting', 'live');
    expect(await value(m, 'castbridge_relays', { state: 'starting' })).toBe(1);
    expect(await value(m, 'castbridge_relays', { state: 'live' })).toBe(1);
    expect(
      await value(m, 'castbridge_relay_transitions_total', { from: 'starting', to: 'live' }),
    ).toBe(1);
    m.setRelaysByState({ retrying: 3 });
    expect(await value(m, 'castbridge_relays', { state: 'retrying' })).toBe(3);
    expect(await value(m, 'castbridge_relays', { state: 'live' })).toBe(0);
  });

  it('counts ffmpeg restarts, webhooks and live ingest sessions', async () => {
    const m = service();
    m.ffmpegRestarted();
    m.ffmpegRestarted();
    m.webhookDelivery('delivered');
    m.webhookDelivery('failed');
    m.webhookDelivery('delivered');
    m.inboundWebhook('shopify', 'duplicate');
    m.ingestSessionStarted();
    m.ingestSessionStarted();
    m.ingestSessionEnded();
    expect(await value(m, 'castbridge_ffmpeg_restarts_total')).toBe(2);
    expect(await value(m, 'castbridge_webhook_deliveries_total', { outcome: 'delivered' })).toBe(2);
    expect(
      await value(m, 'castbridge_inbound_webhooks_total', {
        provider: 'shopify',
        outcome: 'duplicate',
      }),
    ).toBe(1);
    expect(await value(m, 'castbridge_ingest_sessions_live')).toBe(1);
  });

  it('observes job durations and reads queue depth at scrape time', async () => {
    const m = service();
    m.jobFinished('maintenance', 'maintenance.prune-outbox', 'completed', 0.2);
    const text = (await m.scrape()).body;
    expect(text).toContain(
      'castbridge_job_duration_seconds_count{queue="maintenance",job="maintenance.prune-outbox",outcome="completed"} 1',
    );
    expect(text).toContain('castbridge_queue_jobs{queue="maintenance",state="waiting"} 2');
    expect(text).toContain('castbridge_queue_jobs{queue="maintenance",state="active"} 0');
    expect(text).toContain('castbridge_ingest_connections{state="pending"} 2');
    expect(text).toContain('castbridge_ingest_connections{state="publishing"} 1');
  });

  it('gives each instance its own registry (several apps in one process)', async () => {
    const a = service();
    const b = service();
    expect(a.registry).not.toBe(b.registry);
    expect(a.registry).not.toBe(globalRegistry);
    a.ffmpegRestarted();
    a.ffmpegRestarted();
    a.webhookDelivery('failed');
    a.relayStateChanged(null, 'live');
    a.ingestSessionStarted();
    // What one app counts is not seen by the other, nor by prom-client's global registry.
    expect(await value(a, 'castbridge_ffmpeg_restarts_total')).toBe(2);
    expect(await value(b, 'castbridge_ffmpeg_restarts_total')).toBe(0);
    expect(await value(b, 'castbridge_webhook_deliveries_total', { outcome: 'failed' })).toBe(
      undefined,
    );
    expect(await value(b, 'castbridge_relays', { state: 'live' })).toBe(0);
    expect(await value(b, 'castbridge_ingest_sessions_live')).toBe(0);
    const names = (r: Registry) => r.getMetricsAsArray().map((m) => m.name);
    expect(names(b.registry).sort()).toEqual(names(a.registry).sort());
    for (const name of names(a.registry)) {
      expect(a.registry.getSingleMetric(name)).not.toBe(b.registry.getSingleMetric(name));
    }
    expect(names(globalRegistry).filter((n) => n.startsWith('castbridge_'))).toEqual([]);
    expect((await b.scrape()).body).toContain('castbridge_ffmpeg_restarts_total 0');
    expect((await a.scrape()).body).toContain('castbridge_ffmpeg_restarts_total 2');
  });
});
