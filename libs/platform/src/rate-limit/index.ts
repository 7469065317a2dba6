/**
 * A token bucket: `burst` tokens at most, refilled at `ratePerSec`. take() spends one token or
 * says how long until one is available. Pure arithmetic on a clock; no timers.
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly ratePerSec: number,
    private readonly burst: number,
    now = Date.now(),
  ) {
    this.tokens = burst;
    this.updatedAt = now;
  }

  /** Spends a token: 0 when allowed, else the milliseconds to wait before retrying. */
  take(now = Date.now()): number {
    this.refill(now);
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - this.tokens) / this.ratePerSec) * 1000);
  }

  /** True when the bucket is full again (an idle limiter can be dropped). */
  isFull(now = Date.now()): boolean {
    this.refill(now);
    return this.tokens >= this.burst;
  }

  private refill(now: number): void {
    const elapsed = Math.max(0, now - this.updatedAt) / 1000;
    this.tokens = Math.min(this.burst, this.tokens + elapsed * this.ratePerSec);
    this.updatedAt = now;
  }
}

/**
 * One token bucket per key (a user, an IP address, a tenant), created on first use; full buckets
 * are dropped by sweep() so idle keys cost nothing, and at most maxKeys are kept (the oldest go).
 */
export class KeyedTokenBuckets {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(
    private readonly ratePerSec: number,
    private readonly burst: number,
    private readonly maxKeys = 1_000_000,
  ) {}

  /** Spends a token of `key`: 0 when allowed, else the milliseconds to wait. */
  take(key: string, now = Date.now()): number {
    let bucket = this.buckets.get(key);
    if (!bucket) {
      if (this.buckets.size >= this.maxKeys) this.buckets.delete(this.buckets.keys().next().value!);
      this.buckets.set(key, (bucket = new TokenBucket(this.ratePerSec, this.burst, now)));
    }
    return bucket.take(now);
  }

  sweep(now = Date.now()): void {
    for (const [key, bucket] of this.buckets) if (bucket.isFull(now)) this.buckets.delete(key);
  }

  get size(): number {
    return this.buckets.size;
  }
}
