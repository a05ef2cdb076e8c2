import { redactText } from './redact';

describe('redactText', () => {
  it.each([
    ['connect rtmps://live.example.com:443/app/sk_live_abc123 failed', 'sk_live_abc123'],
    ['POST https://h.example/cb?code=abc&hmac=def: 500', 'code=abc'],
    ['redis://user:hunter2@redis:6379 refused', 'hunter2'],
    ['Authorization: Bearer eyJabc.def.ghi', 'eyJabc.def.ghi'],
    ['key cbk_0123456789abcdef_SECRETSECRET rejected', 'SECRETSECRET'],
    ['secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw invalid', 'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
    ['token shpat_abcdef0123456789 expired', 'abcdef0123456789'],
    ['bad {"streamKey":"live_123"}', 'live_123'],
    ['password=letmein', 'letmein'],
  ])('hides the secret in %s', (text, secret) => {
    const out = redactText(text);
    expect(out).not.toContain(secret);
    expect(out).toContain('[redacted]');
  });

  it('leaves ordinary messages alone', () => {
    const msg = 'job payload field "olderThanDays" must be an integer in [1, 3650]';
    expect(redactText(msg)).toBe(msg);
    expect(redactText('connect ECONNREFUSED 127.0.0.1:5432')).toBe(
      'connect ECONNREFUSED 127.0.0.1:5432',
    );
  });
});
