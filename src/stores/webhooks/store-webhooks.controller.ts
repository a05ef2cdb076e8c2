import { Controller, HttpCode, Param, Post, Req } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request } from 'express';
import { AppError, ErrorCode } from '../../common/errors';
import { MetricsService } from '../../ops/metrics.service';
import { StoreProviders } from '../store-providers';
import { InboundEventsService } from './inbound-events.service';
import { InboundKicker } from './inbound-kicker.service';

/** Metric outcomes of refused webhooks (anything else: `unavailable`, answered 5xx). */
const REFUSAL_OUTCOME: Partial<Record<ErrorCode, string>> = {
  [ErrorCode.Unauthorized]: 'bad_signature',
  [ErrorCode.ValidationFailed]: 'invalid',
  [ErrorCode.NotFound]: 'unknown_provider',
};

/**
 * POST /webhooks/<provider> (API.md "Inbound store webhooks"): verify the signature over
 * the raw body → record the event (unique on its id) → wake the applier → 200.
 * Duplicates answer 200 and change nothing. Nothing is answered 200 before the row commits.
 */
@ApiExcludeController()
@Controller('webhooks')
export class StoreWebhooksController {
  constructor(
    private readonly providers: StoreProviders,
    private readonly inbound: InboundEventsService,
    private readonly kicker: InboundKicker,
    private readonly metrics: MetricsService,
  ) {}

  @Post(':provider')
  @HttpCode(200)
  async receive(
    @Param('provider') name: string,
    @Req() req: Request,
  ): Promise<{ status: 'accepted' | 'duplicate' }> {
    try {
      const answer = await this.accept(name, req);
      this.metrics.inboundWebhook(name, answer.status);
      return answer;
    } catch (err) {
      const outcome = (err instanceof AppError && REFUSAL_OUTCOME[err.code]) || 'unavailable';
      // An unknown provider name comes from the URL: never a label value of its own.
      this.metrics.inboundWebhook(outcome === 'unknown_provider' ? 'unknown' : name, outcome);
      throw err;
    }
  }

  private async accept(name: string, req: Request): Promise<{ status: 'accepted' | 'duplicate' }> {
    const provider = this.providers.get(name);
    const raw: unknown = req.body;
    if (!Buffer.isBuffer(raw)) throw AppError.validation('body', 'a raw body is required');
    if (!provider.verifyWebhook(raw, req.headers)) {
      throw new AppError(ErrorCode.Unauthorized, 'webhook signature is missing or wrong');
    }
    const envelope = provider.webhookEnvelope(req.headers);
    if (!envelope)
      throw AppError.validation('headers', 'webhook id, topic or shop header is missing');
    const text = raw.toString('utf8');
    try {
      JSON.parse(text);
    } catch {
      throw AppError.validation('body', 'malformed JSON');
    }
    const recorded = await this.inbound.record(provider.name, envelope, text);
    if (recorded === 'duplicate') return { status: 'duplicate' };
    // Until the applier is woken, answer 503: the store retries, the row is already safe.
    await this.kicker.kick();
    return { status: recorded === 'new' ? 'accepted' : 'duplicate' };
  }
}
