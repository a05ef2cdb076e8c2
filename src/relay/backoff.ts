/** Retry policy of a relay (API.md "Relay"): exponential from ~1 s, capped, with jitter. */
export const RELAY_BACKOFF = {
  baseMs: 1000,
  capMs: 30_000,
  /** No successful connection for this long → `errored`. */
  giveUpMs: 10 * 60_000,
};

/**
 * Delay before attempt `attempt + 1`, after `attempt` consecutive failures (1-based).
 * ±25 % jitter spreads the reconnects of many relays that failed together.
 */
export function retryDelayMs(
  attempt: number,
  random: () => number = Math.random,
  policy: { baseMs: number; capMs: number } = RELAY_BACKOFF,
): number {
  const n = Math.max(1, Math.floor(attempt));
  const exp = Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(n - 1, 30));
  const jittered = exp * (0.75 + 0.5 * random());
  return Math.round(Math.min(policy.capMs, jittered));
}

/** True when a relay failing since `failingSince` has exhausted its retries. */
export function shouldGiveUp(
  failingSince: Date | null,
  now: Date,
  giveUpMs = RELAY_BACKOFF.giveUpMs,
): boolean {
  return failingSince !== null && now.getTime() - failingSince.getTime() >= giveUpMs;
}
