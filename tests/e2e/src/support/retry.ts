import { ApiError } from '@im/sdk';

/**
 * Calls fn again while it fails with one of `codes`, waiting what the server asked for
 * (retryAfterMs, else 200 ms) in between: what a well-behaved client does.
 */
export async function retrying<T>(
  fn: () => Promise<T>,
  codes: readonly string[] = ['unavailable', 'timeout'],
  attempts = 100,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof ApiError) || !codes.includes(err.code) || attempt >= attempts) throw err;
      await new Promise((r) => setTimeout(r, err.retryAfterMs ?? 200));
    }
  }
}
