import type { BackoffStrategy } from 'bullmq';

/** First retry of a placement after a transient failure. */
export const ORDER_RETRY_BASE_MS = 1000;
/** Longest wait between two placement attempts. */
export const ORDER_RETRY_MAX_MS = 10 * 60_000;

/**
 * Delay before placement attempt `attemptsMade + 1`: exponential from one second, capped at
 * ten minutes, with ±20 % jitter (many orders waiting on one store do not retry in step).
 * The store's Retry-After, when it sent one, wins when it is longer.
 */
export function orderRetryDelayMs(
  attemptsMade: number,
  retryAfterMs: number | null = null,
  random: () => number = Math.random,
): number {
  const exp = Math.min(
    ORDER_RETRY_MAX_MS,
    ORDER_RETRY_BASE_MS * 2 ** Math.max(0, attemptsMade - 1),
  );
  const jittered = Math.round(exp * (0.8 + 0.4 * random()));
  return retryAfterMs !== null && retryAfterMs > jittered ? retryAfterMs : jittered;
}

/** A transient placement failure: the job is retried after `delayMs`. Message is secret-free. */
export class OrderRetryError extends Error {
  constructor(
    message: string,
    public readonly delayMs: number,
  ) {
    super(message);
    this.name = 'OrderRetryError';
  }
}

/** The 'order' backoff of orders.place jobs: the attempt chose the delay and put it on the error. */
export const orderBackoff: BackoffStrategy = (attemptsMade, _type, err) => {
  const delay = (err as { delayMs?: unknown } | undefined)?.delayMs;
  return typeof delay === 'number' && Number.isFinite(delay) && delay >= 0
    ? delay
    : orderRetryDelayMs(attemptsMade);
};
