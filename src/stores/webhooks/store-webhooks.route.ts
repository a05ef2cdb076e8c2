import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AppError, ErrorCode } from '../../common/errors';
import { errorBody, logServerError } from '../../common/http-exception.filter';
import { MAX_BODY_BYTES } from '../../common/http-limits';
import { requestId } from '../../common/logging';
import { serveAhead } from '../../common/serve-ahead';
import { MetricsService } from '../../ops/metrics.service';
import { ComplianceRequestsService } from '../compliance/compliance-requests.service';
import type { InboundEnvelope } from '../providers/store-provider';
import { StoreConnectionsService } from '../store-connections.service';
import { StoreProviders } from '../store-providers';
import { InboundEventsService } from './inbound-events.service';
import { InboundKicker } from './inbound-kicker.service';
import { readRawBody } from './raw-body';

/** The route label in metrics, as Express would name it. */
const ROUTE = '/webhooks/:provider';
const PATH = /^\/webhooks\/([A-Za-z0-9_-]{1,64})\/?$/;

/** Metric outcomes of refused webhooks (anything else: `unavailable`, answered 5xx). */
const REFUSAL_OUTCOME: Partial<Record<ErrorCode, string>> = {
  [ErrorCode.Unauthorized]: 'bad_signature',
  [ErrorCode.ValidationFailed]: 'invalid',
  [ErrorCode.NotFound]: 'unknown_provider',
  [ErrorCode.PayloadTooLarge]: 'too_large',
};

type Answer = { status: 'accepted' | 'duplicate' };

/** The provider name of `POST /webhooks/<name>` (query ignored), else null. */
export function webhookProviderOf(req: IncomingMessage): string | null {
  if (req.method !== 'POST' || !req.url?.startsWith('/webhooks/')) return null;
  const q = req.url.indexOf('?');
  return PATH.exec(q < 0 ? req.url : req.url.slice(0, q))?.[1] ?? null;
}

/**
 * POST /webhooks/<provider> (API.md "Inbound store webhooks"): verify the signature over
 * the raw body → record the event (unique on its id) → wake the applier → 200.
 * Duplicates answer 200 and change nothing. Nothing is answered 200 before the row commits.
 *
 * Served ahead of Express and Nest (`serveAhead`, `api` role only): this is the hottest
 * route, and the framework's own per-request cost was more than the rest of it together
 * (README "Benchmarks"). It keeps the app's conventions by hand: x-request-id, the
 * API.md error body, HTTP metrics under the route `/webhooks/:provider`, an access log
 * line without headers or query.
 */
@Injectable()
export class StoreWebhooksRoute implements OnApplicationBootstrap {
  private readonly logger = new Logger('StoreWebhooks');

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly providers: StoreProviders,
    private readonly inbound: InboundEventsService,
    private readonly compliance: ComplianceRequestsService,
    private readonly connections: StoreConnectionsService,
    private readonly kicker: InboundKicker,
    private readonly metrics: MetricsService,
  ) {}

  onApplicationBootstrap(): void {
    const server = this.adapterHost.httpAdapter.getHttpServer() as Server;
    serveAhead(server, webhookProviderOf, (req, res, name) => void this.serve(req, res, name));
  }

  private async serve(req: IncomingMessage, res: ServerResponse, name: string): Promise<void> {
    const started = Date.now();
    const id = requestId(req, res);
    this.metrics.timeHttp(req, res, () => ROUTE);
    let status: number;
    let body: unknown;
    try {
      const answer = await this.accept(name, req);
      this.metrics.inboundWebhook(name, answer.status);
      status = 200;
      body = answer;
    } catch (err) {
      const refusal = errorBody(err, id);
      const outcome = (err instanceof AppError && REFUSAL_OUTCOME[err.code]) || 'unavailable';
      // An unknown provider name comes from the URL: never a label value of its own.
      this.metrics.inboundWebhook(outcome === 'unknown_provider' ? 'unknown' : name, outcome);
      if (refusal.statusCode >= 500) logServerError(this.logger, err, id);
      status = refusal.statusCode;
      body = refusal;
    }
    if (res.headersSent || res.destroyed) return;
    res.statusCode = status;
    res.setHeader('content-type', 'application/json; charset=utf-8');
    res.end(JSON.stringify(body));
    this.accessLog(req, id, status, Date.now() - started);
  }

  private async accept(name: string, req: IncomingMessage): Promise<Answer> {
    const provider = this.providers.get(name);
    const raw = await readRawBody(req, MAX_BODY_BYTES);
    const headers: IncomingHttpHeaders = req.headers;
    if (!provider.verifyWebhook(raw, headers)) {
      throw new AppError(ErrorCode.Unauthorized, 'webhook signature is missing or wrong');
    }
    const envelope = provider.webhookEnvelope(headers);
    if (!envelope)
      throw AppError.validation(
        'headers',
        'webhook id, topic, shop or triggered-at header is missing or malformed',
      );
    if (envelope.stale) {
      // Only the body is signed: an old delivery sent again is a replay (or far too late).
      throw AppError.validation('x-shopify-triggered-at', 'the delivery is too old (a replay?)');
    }
    const text = raw.toString('utf8');
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw AppError.validation('body', 'malformed JSON');
    }
    if (provider.isComplianceTopic(envelope.topic)) {
      return this.acceptCompliance(provider.name, envelope, body, text);
    }
    const recorded = await this.inbound.record(provider.name, envelope, text);
    if (recorded === 'duplicate') return { status: 'duplicate' };
    // Wake the applier. While Redis is unavailable this answers 503 (the row is already
    // safe; the store retries, and the redelivery wakes it).
    await this.kicker.kick();
    return { status: recorded === 'new' ? 'accepted' : 'duplicate' };
  }

  /**
   * A mandatory compliance webhook: recorded durably (payload sealed) and answered 200;
   * the applier's drain acts on shop/redact, buyers' requests wait for the privacy
   * machinery (ComplianceRequestsService.pending). The body must name the header's shop.
   */
  private async acceptCompliance(
    provider: string,
    envelope: InboundEnvelope,
    body: unknown,
    text: string,
  ): Promise<Answer> {
    const named = (body as { shop_domain?: unknown } | null)?.shop_domain;
    if (named !== envelope.shop) {
      throw AppError.validation('shop_domain', 'the body names another shop than the header');
    }
    const conn = await this.connections.findAnyByShop(provider, envelope.shop);
    const recorded = await this.compliance.record(provider, envelope, text, conn?.id ?? null);
    if (recorded === 'duplicate') return { status: 'duplicate' };
    if (envelope.topic === 'shop/redact') await this.kicker.kick();
    return { status: 'accepted' };
  }

  /** As the app's other requests are logged (pino-http's levels and fields). */
  private accessLog(req: IncomingMessage, id: string, statusCode: number, ms: number): void {
    const line = {
      // The shape pino-http's `req` serializer reads (loggerParams): it logs `path` from `url`.
      req: { id, method: req.method, url: req.url?.split('?')[0] },
      res: { statusCode },
      responseTime: ms,
    };
    if (statusCode >= 500) this.logger.error(line, 'request errored');
    else if (statusCode >= 400) this.logger.warn(line, 'request completed');
    else this.logger.log(line, 'request completed');
  }
}
