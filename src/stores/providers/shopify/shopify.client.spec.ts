import { callLimitPauseMs, retryAfterMs } from './shopify.client';

describe('Shopify rate-limit headers', () => {
  it('waits Retry-After seconds (Shopify sends "2.0"), 2 s when absent, at most a minute', () => {
    expect(retryAfterMs('2.0')).toBe(2000);
    expect(retryAfterMs('0.5')).toBe(500);
    expect(retryAfterMs(undefined)).toBe(2000);
    expect(retryAfterMs('soon')).toBe(2000);
    expect(retryAfterMs('3600')).toBe(60_000);
  });

  it('slows down only when the call-limit bucket is 80 % full', () => {
    expect(callLimitPauseMs('1/40')).toBe(0);
    expect(callLimitPauseMs('31/40')).toBe(0);
    expect(callLimitPauseMs('32/40')).toBe(500);
    expect(callLimitPauseMs('39/40')).toBe(4000);
    expect(callLimitPauseMs(undefined)).toBe(0);
    expect(callLimitPauseMs('garbage')).toBe(0);
  });
});
