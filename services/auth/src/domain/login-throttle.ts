/**
 * Failed-login throttling: with `limit` failures inside the window, further attempts wait until
 * the oldest of those failures leaves the window. Returns 0 when an attempt may proceed.
 */
export function retryAfterMs(
  failureTimes: readonly number[],
  limit: number,
  windowMs: number,
  now: number,
): number {
  const recent = failureTimes.filter((t) => t > now - windowMs).sort((a, b) => b - a);
  if (recent.length < limit) return 0;
  const oldestCounted = recent[limit - 1]!;
  return Math.max(1, oldestCounted + windowMs - now);
}

export interface ThrottleLimits {
  maxPerIp: number;
  maxPerAccount: number;
  windowMs: number;
  /** Past maxPerAccount, one attempt per this long: the account is slowed, never locked. */
  accountSlowdownMs: number;
}

/**
 * How long a login attempt must wait, given the other attempts in the window (failures, and
 * attempts still running: each attempt is recorded before its password is checked, so parallel
 * guesses see each other). Per client IP: a hard limit per window. Per account: past the limit, one
 * attempt per slowdown interval, so a stranger cannot lock the owner out.
 */
export function loginWaitMs(
  otherIpAttempts: readonly number[],
  otherAccountAttempts: readonly number[],
  limits: ThrottleLimits,
  now: number,
): number {
  const byIp = retryAfterMs(otherIpAttempts, limits.maxPerIp, limits.windowMs, now);
  const recent = otherAccountAttempts.filter((t) => t > now - limits.windowMs);
  const byAccount =
    recent.length >= limits.maxPerAccount
      ? Math.max(0, Math.max(...recent) + limits.accountSlowdownMs - now)
      : 0;
  return Math.max(byIp, byAccount);
}
