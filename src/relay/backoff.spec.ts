import { retryDelayMs, shouldGiveUp } from './backoff';

describe('retryDelayMs', () => {
  const mid = () => 0.5;
  it('doubles from about one second', () => {
    expect([1, 2, 3, 4, 5].map((n) => retryDelayMs(n, mid))).toEqual([
      1000, 2000, 4000, 8000, 16000,
    ]);
  });
  it('is capped at 30 s whatever the attempt', () => {
    expect(retryDelayMs(6, mid)).toBe(30000);
    expect(retryDelayMs(1000, () => 0.999)).toBe(30000);
  });
  it('jitters within ±25 %', () => {
    expect(retryDelayMs(3, () => 0)).toBe(3000);
    expect(retryDelayMs(3, () => 1)).toBe(5000);
    const seen = new Set(Array.from({ length: 50 }, () => retryDelayMs(2)));
    expect(seen.size).toBeGreaterThan(10);
    for (const v of seen) {
      expect(v).toBeGreaterThanOrEqual(1500);
      expect(v).toBeLessThanOrEqual(2500);
    }
  });
  it('treats nonsense attempts as the first', () => expect(retryDelayMs(0, mid)).toBe(1000));
});

describe('shouldGiveUp', () => {
  const t0 = new Date('2026-01-01T00:00:00Z');
  it('gives up after 10 minutes of failure', () => {
    expect(shouldGiveUp(t0, new Date(t0.getTime() + 9 * 60_000))).toBe(false);
    expect(shouldGiveUp(t0, new Date(t0.getTime() + 10 * 60_000))).toBe(true);
  });
  it('never while not failing', () => expect(shouldGiveUp(null, new Date())).toBe(false));
});
