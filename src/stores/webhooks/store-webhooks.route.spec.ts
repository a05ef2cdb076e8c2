import type { IncomingMessage } from 'node:http';
import { webhookProviderOf } from './store-webhooks.route';

const req = (method: string, url: string) => ({ method, url }) as IncomingMessage;

describe('webhookProviderOf (which requests are served ahead of Express)', () => {
  it('takes POST /webhooks/<provider>, with or without a query or trailing slash', () => {
    expect(webhookProviderOf(req('POST', '/webhooks/shopify'))).toBe('shopify');
    expect(webhookProviderOf(req('POST', '/webhooks/shopify/'))).toBe('shopify');
    expect(webhookProviderOf(req('POST', '/webhooks/shopify?x=1'))).toBe('shopify');
    expect(webhookProviderOf(req('POST', '/webhooks/big-commerce'))).toBe('big-commerce');
  });

  it('leaves everything else to Express', () => {
    expect(webhookProviderOf(req('GET', '/webhooks/shopify'))).toBeNull();
    expect(webhookProviderOf(req('POST', '/webhooks'))).toBeNull();
    expect(webhookProviderOf(req('POST', '/webhooks/'))).toBeNull();
    expect(webhookProviderOf(req('POST', '/webhooks/shopify/extra'))).toBeNull();
    expect(webhookProviderOf(req('POST', '/webhooks/%2e%2e'))).toBeNull();
    expect(webhookProviderOf(req('POST', '/v1/webhooks/shopify'))).toBeNull();
    expect(webhookProviderOf(req('POST', `/webhooks/${'a'.repeat(65)}`))).toBeNull();
  });
});
