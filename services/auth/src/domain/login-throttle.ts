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
