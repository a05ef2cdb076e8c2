import { retryAfterMs, throttleWaitMs } from './shopify.client';

describe('Shopify rate-limit headers', () => {
  it('waits Retry-After seconds (Shopify sends "2.0"), 2 s when absent, at most a minute', () => {
    expect(retryAfterMs('2.0')).toBe(2000);
    expect(retryAfterMs('0.5')).toBe(500);
    expect(retryAfterMs(undefined)).toBe(2000);
    expect(retryAfterMs('soon')).toBe(2000);
    expect(retryAfterMs('3600')).toBe(60_000);
  });

  it('waits for the points a query needs at the restore rate, nothing when the bucket holds them', () => {
    const status = { maximumAvailable: 2000, currentlyAvailable: 100, restoreRate: 100 };
    expect(throttleWaitMs(status, 50)).toBe(0);
    expect(throttleWaitMs(status, 352)).toBe(2520);
    // Refilled since it was seen: 1.5 s later 150 more points are there.
    expect(throttleWaitMs(status, 352, 1500)).toBe(1020);
    // A cost above the bucket's size waits for a full bucket, not forever.
    expect(throttleWaitMs(status, 5000)).toBe(19_000);
    expect(throttleWaitMs({ ...status, currentlyAvailable: 0 }, 10)).toBe(100);
  });
});
