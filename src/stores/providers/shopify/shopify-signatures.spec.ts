import {
  normalizeShopDomain,
  oauthMessage,
  signOAuthQuery,
  signWebhookBody,
  verifyOAuthQuery,
  verifyWebhookBody,
} from './shopify-signatures';

const SECRET = 'hush';

describe('Shopify signatures', () => {
  it('signs the sorted query without hmac, as Shopify documents', () => {
    // Example from Shopify's OAuth docs (shop, code, timestamp, host...) in scrambled order.
    const q = new URLSearchParams(
      'timestamp=1337178173&shop=some-shop.myshopify.com&code=0907a61c&hmac=x',
    );
    expect(oauthMessage(q)).toBe('code=0907a61c&shop=some-shop.myshopify.com&timestamp=1337178173');
    q.set('hmac', signOAuthQuery(q, SECRET));
    expect(verifyOAuthQuery(q, SECRET)).toBe(true);
  });

  it('refuses a changed parameter, a wrong secret, a missing or malformed hmac', () => {
    const q = new URLSearchParams('code=abc&shop=a.myshopify.com&state=s&timestamp=1');
    q.set('hmac', signOAuthQuery(q, SECRET));
    expect(verifyOAuthQuery(q, 'other')).toBe(false);
    const changed = new URLSearchParams(q);
    changed.set('shop', 'evil.myshopify.com');
    expect(verifyOAuthQuery(changed, SECRET)).toBe(false);
    const missing = new URLSearchParams(q);
    missing.delete('hmac');
    expect(verifyOAuthQuery(missing, SECRET)).toBe(false);
    const bad = new URLSearchParams(q);
    bad.set('hmac', 'zz');
    expect(verifyOAuthQuery(bad, SECRET)).toBe(false);
  });

  it('verifies a webhook body by its base64 HMAC', () => {
    const body = Buffer.from('{"id":1}');
    const sig = signWebhookBody(body, SECRET);
    expect(verifyWebhookBody(body, sig, SECRET)).toBe(true);
    expect(verifyWebhookBody(Buffer.from('{"id":2}'), sig, SECRET)).toBe(false);
    expect(verifyWebhookBody(body, undefined, SECRET)).toBe(false);
    expect(verifyWebhookBody(body, '', SECRET)).toBe(false);
    expect(verifyWebhookBody(body, sig, 'other')).toBe(false);
  });

  it('accepts only *.myshopify.com shop domains', () => {
    expect(normalizeShopDomain('Cool-Shop.myshopify.com')).toBe('cool-shop.myshopify.com');
    for (const bad of [
      'evil.com',
      'shop.myshopify.com.evil.com',
      'https://a.myshopify.com',
      'a.myshopify.com/path',
      'a.myshopify.com:443',
      '-a.myshopify.com',
      '.myshopify.com',
    ]) {
      expect(normalizeShopDomain(bad)).toBeNull();
    }
  });
});
