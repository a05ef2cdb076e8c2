import type { DeliveryAttemptDto, DeliveryDto, WebhookEndpointDto } from './webhook-endpoint.dto';
import type { WebhookDeliveryAttempt } from './webhook-delivery-attempt.entity';
import type { WebhookDelivery } from './webhook-delivery.entity';
import type { WebhookEndpoint } from './webhook-endpoint.entity';

/** The endpoint as read: never its secret (only create passes `secret`). */
export function toEndpointDto(e: WebhookEndpoint, secret?: string): WebhookEndpointDto {
  const dto: WebhookEndpointDto = {
    id: e.id,
    url: e.url,
    events: e.events,
    enabled: e.enabled,
    disabledReason: e.enabled ? null : e.disabledReason,
    createdAt: e.createdAt.toISOString(),
    updatedAt: e.updatedAt.toISOString(),
  };
  if (secret !== undefined) dto.secret = secret;
  return dto;
}

export function toAttemptDto(a: WebhookDeliveryAttempt): DeliveryAttemptDto {
  return {
    attempt: a.attempt,
    at: a.createdAt.toISOString(),
    responseStatus: a.responseStatus,
    durationMs: a.durationMs,
    error: a.error,
  };
}

export function toDeliveryDto(
  d: WebhookDelivery,
  attempts?: WebhookDeliveryAttempt[],
): DeliveryDto {
  const dto: DeliveryDto = {
    id: d.id,
    eventId: d.eventId,
    eventType: d.eventType,
    status: d.status,
    attempts: d.attempts,
    lastResponseStatus: d.lastResponseStatus,
    lastError: d.lastError,
    nextAttemptAt: d.status === 'pending' && d.nextAttemptAt ? d.nextAttemptAt.toISOString() : null,
    deliveredAt: d.deliveredAt ? d.deliveredAt.toISOString() : null,
    createdAt: d.createdAt.toISOString(),
  };
  if (attempts) dto.attemptLog = attempts.map(toAttemptDto);
  return dto;
}

/** The body POSTed for an event (API.md): `{id, type, createdAt, data}`. */
export function webhookBody(event: {
  id: string;
  type: string;
  createdAt: Date;
  data: Record<string, unknown>;
}): string {
  return JSON.stringify({
    id: event.id,
    type: event.type,
    createdAt: event.createdAt.toISOString(),
    data: event.data,
  });
}
