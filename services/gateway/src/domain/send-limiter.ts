import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { AppError } from '@im/platform/errors';
import { CONFIG } from '@im/platform/nest';
import { KeyedTokenBuckets } from '@im/platform/rate-limit';
import type { GatewayConfig } from '../config.js';

/**
 * Per-user send rate (token bucket), per gateway process: a user's devices on one gateway share
 * a bucket. Full buckets are dropped every minute so idle users cost nothing.
 */
@Injectable()
export class SendLimiter implements OnApplicationShutdown {
  private readonly buckets: KeyedTokenBuckets;
  private readonly sweeper: NodeJS.Timeout;

  constructor(@Inject(CONFIG) private readonly config: GatewayConfig) {
    this.buckets = new KeyedTokenBuckets(config.SEND_RATE_PER_SEC, config.SEND_BURST);
    this.sweeper = setInterval(() => this.buckets.sweep(), 60_000);
    this.sweeper.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.sweeper);
  }

  /** Spends one send for the user or throws rate_limited with the wait in retryAfterMs. */
  take(userId: string): void {
    const wait = this.buckets.take(userId);
    if (wait > 0)
      throw new AppError(
        'rate_limited',
        `sending too fast: at most ${this.config.SEND_RATE_PER_SEC} messages per second`,
        wait,
      );
  }
}
