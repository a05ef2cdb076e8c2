/**
 * When to try a delivery again, and when to stop: pure functions, unit-tested.
 *
 * Backoff is exponential (×3 per failed attempt from WEBHOOK_RETRY_BASE, 5 s by default)
 * with ±20 % jitter, capped at 6 h between attempts; a Retry-After answer replaces the
 * computed delay. A delivery is retried for up to 5 days after it was created (well past
 * the 24 h the API promises); an endpoint whose attempts have failed for 5 days in a row
 * is disabled, and a 410 disables it at once.
 */
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export const MAX_RETRY_DELAY_MS = 6 * HOUR;
export const MAX_RETRY_AFTER_MS = DAY;
export const RETRY_WINDOW_MS = 5 * DAY;
export const DISABLE_AFTER_FAILING_MS = 5 * DAY;

/** Delay before the next attempt after `failedAttempts` (≥ 1) failures. */
export function backoffDelay(
  failedAttempts: number,
  baseMs: number,
  random: () => number = Math.random,
): number {
  const exp = baseMs * Math.pow(3, Math.max(0, failedAttempts - 1));
  const capped = Math.min(MAX_RETRY_DELAY_MS, exp);
  return Math.round(capped * (0.8 + 0.4 * random()));
}

/** A Retry-After header (delta seconds or an HTTP date) as milliseconds, or null. */
export function parseRetryAfter(value: string | undefined | null, now: Date): number | null {
  if (value === undefined || value === null) return null;
  const v = value.trim();
  if (v === '') return null;
  let ms: number;
  if (/^\d+$/.test(v)) ms = Number(v) * 1000;
  else {
    // An HTTP date always names a weekday and a month; anything else is junk.
    if (!/[A-Za-z]{3}/.test(v)) return null;
    const at = Date.parse(v);
    if (Number.isNaN(at)) return null;
    ms = at - now.getTime();
  }
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, ms));
}

export interface AttemptResult {
  /** HTTP status, or null when no response came (timeout, refused, egress denied). */
  status: number | null;
  retryAfterMs: number | null;
}

export type Decision =
  | { kind: 'delivered' }
  | { kind: 'gone' }
  | { kind: 'retry'; delayMs: number }
  | { kind: 'give-up'; disableEndpoint: boolean };

export interface DecisionContext {
  /** Attempts made, this one included. */
  attempts: number;
  deliveryCreatedAt: Date;
  /** The endpoint's failing-since before this attempt (null: it was healthy). */
  endpointFailingSince: Date | null;
  now: Date;
  baseMs: number;
  random?: () => number;
}

export function isSuccess(status: number | null): boolean {
  return status !== null && status >= 200 && status < 300;
}

export function decide(result: AttemptResult, ctx: DecisionContext): Decision {
  if (isSuccess(result.status)) return { kind: 'delivered' };
  if (result.status === 410) return { kind: 'gone' };
  const now = ctx.now.getTime();
  const failingSince = (ctx.endpointFailingSince ?? ctx.now).getTime();
  if (now - failingSince >= DISABLE_AFTER_FAILING_MS) {
    return { kind: 'give-up', disableEndpoint: true };
  }
  const delayMs = result.retryAfterMs ?? backoffDelay(ctx.attempts, ctx.baseMs, ctx.random);
  if (now + delayMs - ctx.deliveryCreatedAt.getTime() > RETRY_WINDOW_MS) {
    return { kind: 'give-up', disableEndpoint: false };
  }
  return { kind: 'retry', delayMs };
}
