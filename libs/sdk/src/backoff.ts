export interface BackoffOptions {
  /** Delay ceiling of the first retry (ms). */
  baseMs?: number;
  /** Largest delay ever waited (ms). */
  maxMs?: number;
}

/**
 * Exponential backoff with full jitter (AWS architecture blog, "Exponential Backoff And Jitter"):
 * a uniform delay in [0, min(max, base · 2^attempt)), so a fleet of clients cut off together does
 * not come back together. `attempt` counts from 0.
 */
export function backoffDelay(attempt: number, options: BackoffOptions = {}, random = Math.random): number {
  const base = options.baseMs ?? 500;
  const max = options.maxMs ?? 30_000;
  const ceiling = Math.min(max, base * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}

/**
 * The wait after a refusal that came with the server's `retryAfterMs`: at least the hint, plus up to
 * half of it at random (clients refused at one moment must not all come back at the next), and no
 * less than the backoff of `attempt` when the hints keep coming.
 */
export function hintedDelay(
  retryAfterMs: number,
  attempt: number,
  options: BackoffOptions = {},
  random = Math.random,
): number {
  const jittered = retryAfterMs + Math.floor(random() * (retryAfterMs / 2));
  return Math.max(jittered, backoffDelay(attempt, options, random));
}
