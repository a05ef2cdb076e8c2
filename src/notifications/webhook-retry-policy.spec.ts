import {
  backoffDelay,
  decide,
  DecisionContext,
  MAX_RETRY_DELAY_MS,
  parseRetryAfter,
} from './webhook-retry-policy';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('webhook retry policy', () => {
  describe('backoffDelay', () => {
    it('grows exponentially from the base', () => {
      const mid = () => 0.5; // no jitter
      expect([1, 2, 3, 4].map((n) => backoffDelay(n, 5000, mid))).toEqual([
        5000, 15000, 45000, 135000,
      ]);
    });

    it('adds ±20 % jitter', () => {
      expect(backoffDelay(1, 1000, () => 0)).toBe(800);
      expect(backoffDelay(1, 1000, () => 0.999999)).toBe(1200);
      const seen = new Set(Array.from({ length: 50 }, () => backoffDelay(3, 1000)));
      expect(seen.size).toBeGreaterThan(1);
      for (const d of seen) expect(d).toBeGreaterThanOrEqual(7200);
    });

    it('is capped', () => {
      expect(backoffDelay(40, 5000, () => 0.5)).toBe(MAX_RETRY_DELAY_MS);
      expect(backoffDelay(40, 5000, () => 1)).toBeLessThanOrEqual(MAX_RETRY_DELAY_MS * 1.2);
    });
  });

  describe('parseRetryAfter', () => {
    const now = new Date('2026-01-01T00:00:00Z');
    it('reads delta seconds and HTTP dates', () => {
      expect(parseRetryAfter('3', now)).toBe(3000);
      expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:10 GMT', now)).toBe(10_000);
    });
    it('ignores junk, clamps past dates to 0 and long waits to a day', () => {
      expect(parseRetryAfter(undefined, now)).toBeNull();
      expect(parseRetryAfter('soon', now)).toBeNull();
      expect(parseRetryAfter('-5', now)).toBeNull();
      expect(parseRetryAfter('Wed, 31 Dec 2025 00:00:00 GMT', now)).toBe(0);
      expect(parseRetryAfter('999999999', now)).toBe(DAY);
    });
  });

  describe('decide', () => {
    const created = new Date('2026-01-01T00:00:00Z');
    const ctx = (over: Partial<DecisionContext> = {}): DecisionContext => ({
      attempts: 1,
      deliveryCreatedAt: created,
      endpointFailingSince: null,
      now: created,
      baseMs: 5000,
      random: () => 0.5,
      ...over,
    });

    it('any 2xx is delivered', () => {
      for (const status of [200, 201, 204, 299]) {
        expect(decide({ status, retryAfterMs: null }, ctx())).toEqual({ kind: 'delivered' });
      }
    });

    it('410 is gone; 3xx, 4xx, 5xx and no answer are retried', () => {
      expect(decide({ status: 410, retryAfterMs: null }, ctx())).toEqual({ kind: 'gone' });
      for (const status of [301, 302, 400, 404, 429, 500, 503, null]) {
        expect(decide({ status, retryAfterMs: null }, ctx())).toEqual({
          kind: 'retry',
          delayMs: 5000,
        });
      }
    });

    it('honours Retry-After instead of the backoff', () => {
      expect(decide({ status: 503, retryAfterMs: 120_000 }, ctx())).toEqual({
        kind: 'retry',
        delayMs: 120_000,
      });
    });

    it('keeps retrying for more than 24 h, then gives up without disabling', () => {
      // Shortest possible schedule (jitter at its minimum), endpoint failing throughout
      // but for less than the disable threshold measured from each attempt.
      let now = created.getTime();
      let attempts = 0;
      let lastAttemptAt = now;
      for (;;) {
        attempts += 1;
        lastAttemptAt = now;
        const d = decide(
          { status: 500, retryAfterMs: null },
          ctx({
            attempts,
            now: new Date(now),
            endpointFailingSince: new Date(now),
            random: () => 0,
          }),
        );
        if (d.kind !== 'retry') {
          expect(d).toEqual({ kind: 'give-up', disableEndpoint: false });
          break;
        }
        now += d.delayMs;
      }
      expect(lastAttemptAt - created.getTime()).toBeGreaterThan(DAY);
      expect(attempts).toBeGreaterThan(10);
    });

    it('disables an endpoint that has been failing for 5 days', () => {
      const now = new Date(created.getTime() + 5 * DAY + 1);
      expect(
        decide(
          { status: 500, retryAfterMs: null },
          ctx({ now, deliveryCreatedAt: now, endpointFailingSince: created }),
        ),
      ).toEqual({ kind: 'give-up', disableEndpoint: true });
      expect(
        decide(
          { status: 500, retryAfterMs: null },
          ctx({
            now,
            deliveryCreatedAt: now,
            endpointFailingSince: new Date(now.getTime() - HOUR),
          }),
        ).kind,
      ).toBe('retry');
    });
  });
});
