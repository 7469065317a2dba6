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
  windowMs: number;
  /** Failures from one client IP (any accounts) per window: then that IP waits. */
  maxPerIp: number;
  /** Failures on one account from one client IP per window: then that pair is slowed… */
  maxPerAccountAndIp: number;
  /** …to one attempt per this long (a stranger elsewhere does not slow the owner down). */
  slowdownMs: number;
  /** Failures on one account from all IPs per window (a distributed attack): then it waits. */
  maxPerAccount: number;
}

export interface RecentAttempts {
  ip: readonly number[];
  accountAndIp: readonly number[];
  account: readonly number[];
}

/**
 * How long a login attempt must wait, given the recent failed attempts (and attempts still being
 * checked) in each scope. One client IP gets a hard limit per window; one account from one IP is
 * slowed past its limit, never locked; an account under attack from many IPs waits for the window.
 */
export function loginWaitMs(recent: RecentAttempts, limits: ThrottleLimits, now: number): number {
  const inWindow = recent.accountAndIp.filter((t) => t > now - limits.windowMs);
  const slowed =
    inWindow.length >= limits.maxPerAccountAndIp
      ? Math.max(0, Math.max(...inWindow) + limits.slowdownMs - now)
      : 0;
  return Math.max(
    retryAfterMs(recent.ip, limits.maxPerIp, limits.windowMs, now),
    retryAfterMs(recent.account, limits.maxPerAccount, limits.windowMs, now),
    slowed,
  );
}
