import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { AppError } from '@im/platform/errors';
import { CONFIG } from '@im/platform/nest';
import { TokenBucket } from '@im/platform/rate-limit';
import type { GatewayConfig } from '../config.js';

/**
 * Per-user send rate (token bucket), per gateway process: a user's devices on one gateway share
 * a bucket. Full buckets are dropped every minute so idle users cost nothing.
 */
@Injectable()
export class SendLimiter implements OnApplicationShutdown {
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(@Inject(CONFIG) private readonly config: GatewayConfig) {
    this.sweeper = setInterval(() => {
      for (const [user, bucket] of this.buckets) if (bucket.isFull()) this.buckets.delete(user);
    }, 60_000);
    this.sweeper.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.sweeper);
  }

  /** Spends one send for the user or throws rate_limited with the wait in retryAfterMs. */
  take(userId: string): void {
    let bucket = this.buckets.get(userId);
    if (!bucket)
      this.buckets.set(
        userId,
        (bucket = new TokenBucket(this.config.SEND_RATE_PER_SEC, this.config.SEND_BURST)),
      );
    const wait = bucket.take();
    if (wait > 0)
      throw new AppError(
        'rate_limited',
        `sending too fast: at most ${this.config.SEND_RATE_PER_SEC} messages per second`,
        wait,
      );
  }
}
