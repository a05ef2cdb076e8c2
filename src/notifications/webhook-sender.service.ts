import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { AppConfig } from '../../config/env.schema';
import { APP_CONFIG } from '../common/app-config';
import { OutboxEvent } from './outbox-event.entity';
import { WebhookDeliveryAttempt } from './webhook-delivery-attempt.entity';
import { WebhookDelivery } from './webhook-delivery.entity';
import { WebhookEndpoint } from './webhook-endpoint.entity';
import { WebhookEndpointsService } from './webhook-endpoints.service';
import { WebhookHttpClient, WebhookResponse } from './webhook-http.client';
import { MetricsService } from '../ops/metrics.service';
import { backoffDelay, decide, Decision } from './webhook-retry-policy';
import { signWebhook } from './webhook-signing';
import { webhookBody } from './webhook.mappers';

/** Thrown to have BullMQ run the job again after `delayMs` (see the 'webhook' backoff). */
export class RetryLaterError extends Error {
  constructor(
    public readonly delayMs: number,
    reason: string,
  ) {
    super(`retry in ${delayMs} ms: ${reason}`);
    this.name = 'RetryLaterError';
  }
}

/** How long one attempt holds a delivery (longer than the HTTP timeout). */
const LEASE_SECONDS = 60;

export type AttemptOutcome =
  { outcome: 'skipped'; reason: string } | { outcome: Exclude<Decision['kind'], 'retry'> };

/**
 * One attempt of one delivery: sign with the endpoint's current (and, during a rotation,
 * previous) secret, POST through the egress-guarded client, log the attempt, and decide
 * what comes next. Runs in the worker role (webhooks.deliver jobs).
 */
@Injectable()
export class WebhookSender {
  private readonly logger = new Logger(WebhookSender.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectDataSource() private readonly db: DataSource,
    private readonly endpoints: WebhookEndpointsService,
    private readonly http: WebhookHttpClient,
    private readonly metrics: MetricsService,
  ) {}

  async attempt(deliveryId: string, runsSoFar = 0): Promise<AttemptOutcome> {
    const delivery = await this.db.getRepository(WebhookDelivery).findOneBy({ id: deliveryId });
    if (!delivery) return { outcome: 'skipped', reason: 'no such delivery' };
    if (delivery.status !== 'pending') return { outcome: 'skipped', reason: delivery.status };
    const endpoint = await this.db
      .getRepository(WebhookEndpoint)
      .findOneBy({ id: delivery.endpointId });
    const event = await this.db.getRepository(OutboxEvent).findOneBy({ id: delivery.eventId });
    if (!endpoint || !endpoint.enabled || !event) {
      const why = !endpoint || !event ? 'event or endpoint no longer exists' : 'endpoint disabled';
      await this.db.query(
        `UPDATE webhook_deliveries
            SET status = 'failed', last_error = $2, next_attempt_at = NULL, updated_at = now()
          WHERE id = $1 AND status = 'pending'`,
        [delivery.id, why],
      );
      return { outcome: 'skipped', reason: why };
    }

    let secrets: string[];
    try {
      secrets = this.endpoints.signingSecrets(endpoint);
    } catch {
      // E.g. the encryption key of the row is no longer configured: never retry fast.
      throw new RetryLaterError(
        backoffDelay(runsSoFar + 1, this.config.webhookRetryBaseMs),
        'the signing secret cannot be opened',
      );
    }

    const claimed: [Array<{ attempts: number }>, number] = await this.db.query(
      `UPDATE webhook_deliveries
          SET lease_until = now() + make_interval(secs => $2), updated_at = now()
        WHERE id = $1 AND status = 'pending' AND (lease_until IS NULL OR lease_until < now())
        RETURNING attempts`,
      [delivery.id, LEASE_SECONDS],
    );
    if (claimed[0].length === 0) {
      throw new RetryLaterError(LEASE_SECONDS * 1000, 'another worker is attempting it');
    }
    const attempt = claimed[0][0].attempts + 1;

    const body = webhookBody(event);
    const headers = signWebhook(secrets, delivery.id, new Date(), body);
    const res = await this.http.post({ url: endpoint.url, body, headers });
    const now = new Date();
    const decision = decide(res, {
      attempts: attempt,
      deliveryCreatedAt: delivery.createdAt,
      endpointFailingSince: endpoint.failingSince,
      now,
      baseMs: this.config.webhookRetryBaseMs,
    });
    await this.record(delivery, endpoint, attempt, res, decision, now);
    // Ids, status and timing only: never the URL (it may carry a token), headers or body.
    const line = {
      deliveryId: delivery.id,
      endpointId: endpoint.id,
      eventType: delivery.eventType,
      attempt,
      responseStatus: res.status,
      durationMs: res.durationMs,
      outcome: decision.kind,
      ...(decision.kind === 'retry' ? { retryInMs: decision.delayMs } : {}),
      ...(res.error ? { error: res.error } : {}),
    };
    if (decision.kind === 'delivered') this.logger.debug(line, 'webhook delivery attempt');
    else this.logger.log(line, 'webhook delivery attempt');
    this.metrics.webhookDelivery(decision.kind);
    if (decision.kind === 'retry')
      throw new RetryLaterError(decision.delayMs, res.error ?? 'failed');
    return { outcome: decision.kind };
  }

  private async record(
    delivery: WebhookDelivery,
    endpoint: WebhookEndpoint,
    attempt: number,
    res: WebhookResponse,
    decision: Decision,
    now: Date,
  ): Promise<void> {
    const status =
      decision.kind === 'delivered'
        ? 'delivered'
        : decision.kind === 'retry'
          ? 'pending'
          : 'failed';
    const nextAttemptAt =
      decision.kind === 'retry' ? new Date(now.getTime() + decision.delayMs) : null;
    await this.db.transaction(async (m) => {
      await m.getRepository(WebhookDeliveryAttempt).insert({
        deliveryId: delivery.id,
        attempt,
        responseStatus: res.status,
        durationMs: Math.min(res.durationMs, 2_147_483_647),
        error: res.error,
      });
      await m.query(
        `UPDATE webhook_deliveries
            SET attempts = $2, status = $3, last_response_status = $4, last_error = $5,
                next_attempt_at = $6, delivered_at = $7, lease_until = NULL, updated_at = now()
          WHERE id = $1`,
        [
          delivery.id,
          attempt,
          status,
          res.status,
          res.error,
          nextAttemptAt,
          decision.kind === 'delivered' ? now : null,
        ],
      );
      if (decision.kind === 'delivered') {
        await m.query(`UPDATE webhook_endpoints SET failing_since = NULL WHERE id = $1`, [
          endpoint.id,
        ]);
      } else if (
        decision.kind === 'gone' ||
        (decision.kind === 'give-up' && decision.disableEndpoint)
      ) {
        await m.query(
          `UPDATE webhook_endpoints
              SET enabled = false, disabled_reason = $2, updated_at = now()
            WHERE id = $1`,
          [endpoint.id, decision.kind === 'gone' ? 'gone' : 'failing'],
        );
      } else {
        await m.query(
          `UPDATE webhook_endpoints SET failing_since = COALESCE(failing_since, $2) WHERE id = $1`,
          [endpoint.id, now],
        );
      }
    });
  }
}
