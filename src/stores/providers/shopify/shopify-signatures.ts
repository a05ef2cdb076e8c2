import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Shopify's two signatures, as documented:
 * - OAuth redirects: `hmac` = hex HMAC-SHA256 (app secret) of the other query parameters
 *   (`hmac` and `signature` removed), sorted by key, URL-encoded as `k=v&k=v`;
 * - webhooks: `X-Shopify-Hmac-Sha256` = base64 HMAC-SHA256 (app secret) of the raw body.
 * Both compared in constant time.
 */

/** The message Shopify signs for an OAuth redirect: every parameter but hmac/signature, sorted. */
export function oauthMessage(params: URLSearchParams): string {
  const entries = [...params.entries()]
    .filter(([k]) => k !== 'hmac' && k !== 'signature')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return new URLSearchParams(entries).toString();
}

export function signOAuthQuery(params: URLSearchParams, secret: string): string {
  return createHmac('sha256', secret).update(oauthMessage(params)).digest('hex');
}

function equalBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && a.length > 0 && timingSafeEqual(a, b);
}

export function verifyOAuthQuery(params: URLSearchParams, secret: string): boolean {
  const given = params.get('hmac');
  if (!given || !/^[0-9a-f]{64}$/i.test(given)) return false;
  return equalBytes(Buffer.from(signOAuthQuery(params, secret), 'hex'), Buffer.from(given, 'hex'));
}

export function signWebhookBody(rawBody: Buffer | string, secret: string): string {
  return createHmac('sha256', secret).update(rawBody).digest('base64');
}

export function verifyWebhookBody(
  rawBody: Buffer,
  given: string | undefined,
  secret: string,
): boolean {
  if (!given || given.length > 100) return false;
  const expected = createHmac('sha256', secret).update(rawBody).digest();
  return equalBytes(expected, Buffer.from(given, 'base64'));
}

/** `name.myshopify.com`, lower-cased; anything else (paths, ports, other domains) is refused. */
export function normalizeShopDomain(input: string): string | null {
  const shop = input.trim().toLowerCase();
  return /^[a-z0-9][a-z0-9-]{0,60}\.myshopify\.com$/.test(shop) ? shop : null;
}
