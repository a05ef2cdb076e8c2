import { createHash } from 'node:crypto';
import { addressTracker, apiKeyTracker, RATE_LIMITED_PATHS } from './rate-limit.guard';

describe('rate-limit trackers', () => {
  it('track an API key by its SHA-256 only', () => {
    const key = 'cbk_0123456789abcdef_secretsecretsecret';
    const tracker = apiKeyTracker({ headers: { authorization: `Bearer ${key}` } });
    expect(tracker).toBe(`apiKey:${createHash('sha256').update(key).digest('hex')}`);
    expect(tracker).not.toContain('cbk_');
  });
  it('track an address, IPv6 by its /64, an IPv4-mapped one as IPv4 (a server bound to ::)', () => {
    expect(addressTracker({ ip: '127.0.0.2' })).toBe('address:127.0.0.2');
    expect(addressTracker({ ip: '::ffff:203.0.113.9' })).toBe('address:203.0.113.9');
    expect(addressTracker({ ip: '2001:db8:1:2:3:4:5:6' })).toBe(
      addressTracker({ ip: '2001:db8:1:2:ffff::1' }),
    );
  });
});

describe('RATE_LIMITED_PATHS', () => {
  it.each(['/v1', '/v1/channels', '/v1/admin/partners', '/oauth/shopify/callback'])(
    'limits %s',
    (p) => expect(RATE_LIMITED_PATHS.test(p)).toBe(true),
  );
  it.each([
    '/health/ready',
    '/health/live',
    '/metrics',
    '/webhooks/shopify',
    '/hls/x/index.m3u8',
    '/embed/x',
    '/docs',
    '/v10',
    '/oauthx',
  ])('leaves %s alone', (p) => expect(RATE_LIMITED_PATHS.test(p)).toBe(false));
});
