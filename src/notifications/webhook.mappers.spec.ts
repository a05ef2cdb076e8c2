import type { WebhookDeliveryAttempt } from './webhook-delivery-attempt.entity';
import type { WebhookDelivery } from './webhook-delivery.entity';
import type { WebhookEndpoint } from './webhook-endpoint.entity';
import { normalizeEvents } from './webhook-endpoints.service';
import { toDeliveryDto, toEndpointDto, webhookBody } from './webhook.mappers';

const at = new Date('2026-11-24T08:00:00.000Z');

const endpoint = (over: Partial<WebhookEndpoint> = {}): WebhookEndpoint => ({
  id: 'e1',
  partnerId: 'p1',
  url: 'https://partner.example/hooks',
  events: ['*'],
  enabled: true,
  disabledReason: null,
  secretKeyId: 'k1',
  secretSealed: 'SEALED',
  previousSecretKeyId: 'k1',
  previousSecretSealed: 'OLD-SEALED',
  previousSecretExpiresAt: at,
  failingSince: at,
  createdAt: at,
  updatedAt: at,
  ...over,
});

const delivery = (over: Partial<WebhookDelivery> = {}): WebhookDelivery => ({
  id: 'd1',
  endpointId: 'e1',
  eventId: 'ev1',
  eventType: 'order.placed',
  status: 'pending',
  attempts: 2,
  generation: 0,
  lastResponseStatus: 503,
  lastError: 'HTTP 503',
  nextAttemptAt: new Date(at.getTime() + 5000),
  leaseUntil: null,
  enqueuedAt: at,
  deliveredAt: null,
  createdAt: at,
  updatedAt: at,
  ...over,
});

describe('webhook mappers', () => {
  it('shows an endpoint without any secret material', () => {
    const dto = toEndpointDto(endpoint());
    expect(dto).toEqual({
      id: 'e1',
      url: 'https://partner.example/hooks',
      events: ['*'],
      enabled: true,
      disabledReason: null,
      createdAt: at.toISOString(),
      updatedAt: at.toISOString(),
    });
    expect(JSON.stringify(dto)).not.toMatch(/SEALED|secret|k1/);
  });

  it('shows the secret only when given (create)', () => {
    expect(toEndpointDto(endpoint(), 'whsec_abc').secret).toBe('whsec_abc');
  });

  it('says why an endpoint was disabled', () => {
    expect(toEndpointDto(endpoint({ enabled: false, disabledReason: 'gone' }))).toMatchObject({
      enabled: false,
      disabledReason: 'gone',
    });
  });

  it('maps a delivery to the API.md shape (+ lastError, deliveredAt)', () => {
    expect(toDeliveryDto(delivery())).toEqual({
      id: 'd1',
      eventId: 'ev1',
      eventType: 'order.placed',
      status: 'pending',
      attempts: 2,
      lastResponseStatus: 503,
      lastError: 'HTTP 503',
      nextAttemptAt: '2026-11-24T08:00:05.000Z',
      deliveredAt: null,
      createdAt: at.toISOString(),
    });
    expect(toDeliveryDto(delivery({ status: 'failed' })).nextAttemptAt).toBeNull();
  });

  it('adds the attempt log when asked', () => {
    const attempts: WebhookDeliveryAttempt[] = [
      {
        id: 'a1',
        deliveryId: 'd1',
        attempt: 1,
        responseStatus: null,
        durationMs: 15000,
        error: 'timed out',
        createdAt: at,
      },
    ];
    expect(toDeliveryDto(delivery(), attempts).attemptLog).toEqual([
      {
        attempt: 1,
        at: at.toISOString(),
        responseStatus: null,
        durationMs: 15000,
        error: 'timed out',
      },
    ]);
  });

  it('stores ["*", …] as ["*"]', () => {
    expect(normalizeEvents(['order.placed', '*'])).toEqual(['*']);
    expect(normalizeEvents(['order.placed'])).toEqual(['order.placed']);
  });

  it('serializes the body as {id, type, createdAt, data}', () => {
    expect(
      JSON.parse(
        webhookBody({ id: 'ev1', type: 'session.started', createdAt: at, data: { a: 1 } }),
      ),
    ).toEqual({ id: 'ev1', type: 'session.started', createdAt: at.toISOString(), data: { a: 1 } });
  });
});
