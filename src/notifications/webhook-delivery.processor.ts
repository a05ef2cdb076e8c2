import { Processor } from '@nestjs/bullmq';
import type { BackoffStrategy } from 'bullmq';
import { QueueName } from '../queues/queue-registry';
import { JobHandlers, TypedProcessor } from '../queues/typed-processor';
import { workerOptions } from '../queues/worker-options';
import { WebhookSender } from './webhook-sender.service';

/** When a job fails without saying when to retry (not expected): half a minute. */
const FALLBACK_RETRY_MS = 30_000;

/**
 * The 'webhook' backoff of webhooks.deliver jobs: the attempt itself chose the delay
 * (exponential + jitter, or the receiver's Retry-After) and put it on the error.
 */
export const webhookBackoff: BackoffStrategy = (_attemptsMade, _type, err) => {
  const delay = (err as { delayMs?: unknown } | undefined)?.delayMs;
  return typeof delay === 'number' && Number.isFinite(delay) && delay >= 0
    ? delay
    : FALLBACK_RETRY_MS;
};

@Processor(
  QueueName.Webhooks,
  workerOptions({ concurrency: 8, settings: { backoffStrategy: webhookBackoff } }),
)
export class WebhookDeliveryProcessor extends TypedProcessor<QueueName.Webhooks> {
  protected readonly queueName = QueueName.Webhooks;

  constructor(private readonly sender: WebhookSender) {
    super();
  }

  protected readonly handlers: JobHandlers<QueueName.Webhooks> = {
    'webhooks.deliver': ({ deliveryId }, job) => this.sender.attempt(deliveryId, job.attemptsMade),
  };
}
