import { getQueueToken } from '@nestjs/bullmq';
import { Injectable, Logger } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { Queue } from 'bullmq';
import type { NextFunction, Request, Response } from 'express';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  collectDefaultMetrics,
  Counter,
  Gauge,
  Histogram,
  Registry,
  type CounterConfiguration,
} from 'prom-client';
import { MediaService } from '../media/media.service';
import type { JobMetrics, JobOutcome } from '../queues/job-metrics';
import { QueueName } from '../queues/queue-registry';

/** Relay states as API.md names them (plus `idle`, a destination with no relay). */
export const RELAY_STATES = ['idle', 'starting', 'live', 'retrying', 'errored', 'stopped'] as const;
export type RelayState = (typeof RELAY_STATES)[number];

/** Job states counted for the queue depth gauge. */
export const QUEUE_STATES = [
  'waiting',
  'active',
  'delayed',
  'prioritized',
  'waiting-children',
  'paused',
  'failed',
  'completed',
] as const;

const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const JOB_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 1800, 3600];

/** Label values come from our own code, but a bad caller must not explode cardinality. */
export function labelValue(value: string, fallback = 'other'): string {
  return /^[A-Za-z0-9_.:-]{1,64}$/.test(value) ? value : fallback;
}

const CATCH_ALL_ROUTES = new Set(['*', '/*', '/{*path}', '{*path}']);

/**
 * The route template of a request (`/v1/channels/:id`), never the raw path, so that the
 * HTTP histogram has one series per route and not one per id.
 */
export function routeTemplate(req: Request): string {
  const route = (req as { route?: { path?: unknown } }).route;
  // Nest answers unknown paths from a catch-all route ("/{*path}"): not a route of ours.
  if (route && typeof route.path === 'string' && !CATCH_ALL_ROUTES.has(route.path)) {
    return `${req.baseUrl ?? ''}${route.path}`;
  }
  const path = (req.originalUrl ?? req.url ?? '').split('?')[0];
  if (path === '/admin/queues' || path.startsWith('/admin/queues/')) return '/admin/queues/*';
  return 'unmatched';
}

/**
 * Prometheus metrics of this process (GET /metrics). One registry per application
 * instance, so that several apps in one process (the tests) do not collide.
 *
 * Other features call the domain methods (relayStateChanged, webhookDelivery, …); the
 * queue layer reports job durations through JOB_METRICS; queue depth is read from Redis
 * at scrape time.
 */
@Injectable()
export class MetricsService implements JobMetrics {
  readonly registry = new Registry();
  private readonly logger = new Logger(MetricsService.name);

  private readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  private readonly jobDuration: Histogram<'queue' | 'job' | 'outcome'>;
  private readonly relays: Gauge<'state'>;
  private readonly relayTransitions: Counter<'from' | 'to'>;
  private readonly ffmpegRestarts: Counter;
  private readonly webhookDeliveries: Counter<'outcome'>;
  private readonly inboundWebhooks: Counter<'provider' | 'outcome'>;
  private readonly ingestSessionsLive: Gauge;
  private sealedValuesSource:
    (() => Promise<Array<{ column: string; keyId: string; rows: number }>>) | null = null;
  private currentKeyId = '';

  constructor(private readonly moduleRef: ModuleRef) {
    const registers = [this.registry];
    // Event loop lag sampled every 50 ms (prom-client's 10 ms default wakes the loop 100×/s).
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 50 });
    this.httpDuration = new Histogram({
      name: 'castbridge_http_request_duration_seconds',
      help: 'HTTP request latency by method, route template and status',
      labelNames: ['method', 'route', 'status'],
      buckets: HTTP_BUCKETS,
      registers,
    });
    this.jobDuration = new Histogram({
      name: 'castbridge_job_duration_seconds',
      help: 'Time a BullMQ job took in its handler, by queue, job name and outcome',
      labelNames: ['queue', 'job', 'outcome'],
      buckets: JOB_BUCKETS,
      registers,
    });
    const queueDepth = new Gauge({
      name: 'castbridge_queue_jobs',
      help: 'Jobs per queue and state, read from Redis at scrape time',
      labelNames: ['queue', 'state'],
      registers,
      collect: async () => {
        queueDepth.reset();
        await Promise.all(
          Object.values(QueueName).map(async (name) => {
            try {
              const counts = await this.queue(name).getJobCounts(...QUEUE_STATES);
              for (const state of QUEUE_STATES) {
                queueDepth.set({ queue: name, state }, counts[state] ?? 0);
              }
            } catch (err) {
              // Redis down: no series for this queue (readiness reports Redis).
              this.logger.warn(`queue depth of "${name}" unavailable: ${(err as Error).message}`);
            }
          }),
        );
      },
    });
    this.relays = new Gauge({
      name: 'castbridge_relays',
      help: 'Relays (destinations within live sessions) run by this process, by state',
      labelNames: ['state'],
      registers,
    });
    for (const state of RELAY_STATES) this.relays.set({ state }, 0);
    this.relayTransitions = new Counter({
      name: 'castbridge_relay_transitions_total',
      help: 'Relay state changes, by previous and new state',
      labelNames: ['from', 'to'],
      registers,
    });
    const counter = <L extends string>(c: Omit<CounterConfiguration<L>, 'registers'>) =>
      new Counter<L>({ ...c, registers });
    this.ffmpegRestarts = counter({
      name: 'castbridge_ffmpeg_restarts_total',
      help: 'ffmpeg processes restarted after they exited or failed',
    });
    this.webhookDeliveries = counter({
      name: 'castbridge_webhook_deliveries_total',
      help: 'Outbound webhook delivery attempts, by outcome',
      labelNames: ['outcome'],
    });
    this.inboundWebhooks = counter({
      name: 'castbridge_inbound_webhooks_total',
      help: 'Inbound store webhooks, by provider and outcome',
      labelNames: ['provider', 'outcome'],
    });
    this.ingestSessionsLive = new Gauge({
      name: 'castbridge_ingest_sessions_live',
      help: 'Live ingest sessions (publishers) on this process',
      registers,
    });
    const sealedValues = new Gauge({
      name: 'castbridge_sealed_values',
      help: 'Values sealed at rest per column and encryption key id (current: the key that seals now); a key with none can be removed',
      labelNames: ['column', 'key_id', 'current'],
      registers,
      collect: async () => {
        if (!this.sealedValuesSource) return;
        try {
          const counts = await this.sealedValuesSource();
          sealedValues.reset();
          for (const c of counts) {
            sealedValues.set(
              {
                column: labelValue(c.column),
                key_id: labelValue(c.keyId),
                current: String(c.keyId === this.currentKeyId),
              },
              c.rows,
            );
          }
        } catch (err) {
          this.logger.warn(`sealed value counts unavailable: ${(err as Error).message}`);
        }
      },
    });
    const ingestConnections = new Gauge({
      name: 'castbridge_ingest_connections',
      help: 'RTMP(S) ingest connections by state (pending: not yet an authorized publish or play)',
      labelNames: ['state'],
      registers,
      collect: () => {
        const counts = this.moduleRef.get(MediaService, { strict: false }).ingestCounts();
        for (const state of ['pending', 'publishing', 'playing'] as const) {
          ingestConnections.set({ state }, counts?.[state] ?? 0);
        }
      },
    });
  }

  /**
   * Where the sealed-values gauge reads its counts (KeysModule sets it): rows per sealed
   * column and key id, so an old key with none left can be removed from ENCRYPTION_KEYS.
   */
  setSealedValuesSource(
    source: () => Promise<Array<{ column: string; keyId: string; rows: number }>>,
    currentKeyId: string,
  ): void {
    this.sealedValuesSource = source;
    this.currentKeyId = currentKeyId;
  }

  /** Prometheus text exposition of every metric. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  /** Express middleware observing every response (registered first, in bootstrap.ts). */
  httpMiddleware(): (req: Request, res: Response, next: NextFunction) => void {
    return (req, res, next) => {
      this.timeHttp(req, res, () => routeTemplate(req));
      next();
    };
  }

  /** Times a request until its response is sent; `route` is asked then (Express sets it late). */
  timeHttp(req: IncomingMessage, res: ServerResponse, route: () => string): void {
    const start = process.hrtime.bigint();
    res.once('finish', () => {
      this.httpDuration.observe(
        { method: req.method ?? '', route: route(), status: String(res.statusCode) },
        Number(process.hrtime.bigint() - start) / 1e9,
      );
    });
  }

  jobFinished(queue: string, job: string, outcome: JobOutcome, seconds: number): void {
    this.jobDuration.observe({ queue, job: labelValue(job), outcome }, seconds);
  }

  /** A relay moved from one state to another (`from` null for a new relay). */
  relayStateChanged(from: RelayState | null, to: RelayState): void {
    if (from) this.relays.dec({ state: from });
    this.relays.inc({ state: to });
    this.relayTransitions.inc({ from: from ?? 'none', to });
  }

  /** Sets the relay gauge from a full count (e.g. after a supervisor resync). */
  setRelaysByState(counts: Partial<Record<RelayState, number>>): void {
    for (const state of RELAY_STATES) this.relays.set({ state }, counts[state] ?? 0);
  }

  ffmpegRestarted(): void {
    this.ffmpegRestarts.inc();
  }

  /** outcome: e.g. `delivered`, `failed`, `retrying`, `disabled`. */
  webhookDelivery(outcome: string): void {
    this.webhookDeliveries.inc({ outcome: labelValue(outcome) });
  }

  /** provider: e.g. `shopify`; outcome: e.g. `accepted`, `duplicate`, `bad_signature`, `too_large`. */
  inboundWebhook(provider: string, outcome: string): void {
    this.inboundWebhooks.inc({ provider: labelValue(provider), outcome: labelValue(outcome) });
  }

  ingestSessionStarted(): void {
    this.ingestSessionsLive.inc();
  }

  ingestSessionEnded(): void {
    this.ingestSessionsLive.dec();
  }

  private queue(name: QueueName): Queue {
    return this.moduleRef.get<Queue>(getQueueToken(name), { strict: false });
  }
}
