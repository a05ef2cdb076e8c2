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
  it('verifies Shopify\'s published OAuth example (secret "hush") and refuses it changed', () => {
    // Shopify's documentation example: the query and the digest Shopify computed for it.
    const published =
      'code=0907a61c0c8d55e99db179b68161bc00&hmac=700e2dadb827fcc8609e9d5ce208b2e9cdaab9df07390d2cbca10d7c328fc4bf' +
      '&shop=some-shop.myshopify.com&state=0.6784241404160823&timestamp=1337178173';
    const q = new URLSearchParams(published);
    expect(oauthMessage(q)).toBe(
      'code=0907a61c0c8d55e99db179b68161bc00&shop=some-shop.myshopify.com&state=0.6784241404160823&timestamp=1337178173',
    );
    expect(signOAuthQuery(q, SECRET)).toBe(
      '700e2dadb827fcc8609e9d5ce208b2e9cdaab9df07390d2cbca10d7c328fc4bf',
    );
    expect(verifyOAuthQuery(q, SECRET)).toBe(true);
    // The same parameters in another order verify too (the message is sorted).
    const scrambled = new URLSearchParams(
      [...q.entries()].reverse().map(([k, v]) => [k, v] as [string, string]),
    );
    expect(verifyOAuthQuery(scrambled, SECRET)).toBe(true);
    const changed = new URLSearchParams(q);
    changed.set('timestamp', '1337178174');
    expect(verifyOAuthQuery(changed, SECRET)).toBe(false);
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
